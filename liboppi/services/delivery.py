"""Delivering the outbox to the LRS: the SQL outbox store, the delivery state, the sender loop.

:class:`SqlOutboxStore` implements the sender's :class:`~liboppi.xapi.sender.OutboxStore` on the
``outbox_statements`` table. Each call is one short transaction of its own (a fresh session from
the factory), never the request's session: delivery runs beside the app, not inside a request.

Claiming is a lease, not a long transaction: the claim moves the rows' ``next_attempt_at`` a
lease ahead and commits, then the HTTP requests run with no database transaction open. So

* a second worker does not see leased rows (they are not due), and
* rows of a worker that crashed mid-batch become due again when the lease runs out; the
  resend is harmless, because the LRS stores a statement id at most once (same bytes -> 200/204).

The claim itself is one statement: ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``.
On PostgreSQL the inner select takes ``FOR UPDATE SKIP LOCKED``, so workers that claim at the
same moment take different rows instead of waiting on each other. SQLite has no row locks; a
single ``UPDATE`` runs under its database write lock, so two claims cannot interleave there
either (the second waits for the first, up to the busy timeout).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from liboppi import clock
from liboppi.models import DeliveryState, OutboxStatement, OutboxStatus
from liboppi.models.delivery import STATE_ROW_ID
from liboppi.xapi.sender import (
    MESSAGE_LIMIT,
    Backoff,
    DeliveryReport,
    LrsClient,
    OutboxItem,
    StopReason,
    deliver_once,
    run_worker,
)

from .outbox import OutboxSummary, summarise

log = logging.getLogger("liboppi.xapi")

#: How long a claim holds its rows. Longer than a batch takes to send (one POST, or one PUT per
#: statement after a 400), short enough that a crashed worker's rows soon go out again.
DEFAULT_LEASE = timedelta(minutes=5)
#: Seconds the sender waits when nothing is due (the in-process thread and ``flask xapi worker``).
DEFAULT_IDLE_SECONDS = 5.0

SessionFactory = Callable[[], Session]


# -- Claiming ---------------------------------------------------------------------------------


def claim(session: Session, limit: int, now: datetime, lease_until: datetime) -> list[OutboxItem]:
    """Lease up to ``limit`` due statements, longest due first, in ``session``'s transaction.

    The caller commits (that is when other workers stop seeing the rows). Exposed apart from the
    store so that tests can hold two claims open at once on PostgreSQL.

    Ordered by when each became due, then by id (a new statement is due when it is created, so
    new ones go oldest first): that is the order of the ``(status, next_attempt_at)`` index, so
    a claim reads about ``limit`` index entries. Ordering by id alone made PostgreSQL walk the
    primary key past every delivered row, a cost growing with the outbox's history.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    claimed = session.execute(
        _CLAIM_LOCKING if postgresql else _CLAIM,
        {"now": now, "lease_until": lease_until, "limit": limit},
    ).all()
    items = [
        OutboxItem(row.id, row.statement_id, bytes(row.payload), row.attempts) for row in claimed
    ]
    return sorted(items, key=lambda item: item.id)


def _claim_statement(*, skip_locked: bool):
    due = (
        select(OutboxStatement.id)
        .where(
            OutboxStatement.status == OutboxStatus.PENDING,
            OutboxStatement.next_attempt_at <= bindparam("now"),
        )
        .order_by(OutboxStatement.next_attempt_at, OutboxStatement.id)
        .limit(bindparam("limit"))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(OutboxStatement)
        .where(OutboxStatement.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=bindparam("lease_until"))
        .returning(
            OutboxStatement.id,
            OutboxStatement.statement_id,
            OutboxStatement.payload,
            OutboxStatement.attempts,
        )
        .execution_options(synchronize_session=False)
    )


# Built once: building these costs more than SQLite takes to run them. PostgreSQL's claim
# skips rows another worker's claim holds (SKIP LOCKED); SQLite has no row locks.
_CLAIM = _claim_statement(skip_locked=False)
_CLAIM_LOCKING = _claim_statement(skip_locked=True)
_MARK_DELIVERED = (
    update(OutboxStatement)
    .where(OutboxStatement.id.in_(bindparam("ids", expanding=True)))
    .values(status=OutboxStatus.DELIVERED, delivered_at=bindparam("now"), last_error=None)
    .execution_options(synchronize_session=False)
)


# -- Delivery state -----------------------------------------------------------------------------


def _update_state(session: Session, **values: object) -> None:
    """Set ``values`` on the single state row, creating it if it is missing (one upsert)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(DeliveryState)
        .values(id=STATE_ROW_ID, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )


def get_state(session: Session) -> DeliveryState | None:
    """Return the delivery state row, or None when nothing was ever sent or refused."""
    return session.get(DeliveryState, STATE_ROW_ID)


def clear_auth_failure(session: Session) -> None:
    """Forget a recorded auth failure (an operator fixed the credentials)."""
    if get_state(session) is not None:
        _update_state(session, auth_failed_at=None, auth_failure=None)


def _mark_delivered(session: Session, ids: Sequence[int]) -> None:
    now = clock.now()
    session.execute(_MARK_DELIVERED, {"ids": list(ids), "now": now})
    _update_state(session, last_delivered_at=now, auth_failed_at=None, auth_failure=None)


# -- The store ----------------------------------------------------------------------------------


class SqlOutboxStore:
    """The outbox table as the sender sees it; every method is one short transaction."""

    def __init__(self, sessions: SessionFactory, *, lease: timedelta = DEFAULT_LEASE) -> None:
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self._sessions = sessions
        self._lease = lease

    def _run(self, work: Callable[[Session], object]) -> object:
        session = self._sessions()
        try:
            result = work(session)
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def claim_batch(
        self, limit: int, now: datetime, *, delivered: Sequence[int] = ()
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due statements, oldest first; first mark ``delivered`` so."""

        def work(session: Session) -> list[OutboxItem]:
            if delivered:
                _mark_delivered(session, delivered)
            return claim(session, limit, now, now + self._lease)

        return self._run(work)  # type: ignore[return-value]

    def mark_delivered(self, ids: Sequence[int]) -> None:
        """Record that the LRS has these statements; a success also ends an auth failure."""
        self._run(lambda session: _mark_delivered(session, ids))

    def mark_parked(self, id: int, message: str) -> None:
        """Set a statement the LRS rejected aside, with the LRS's message."""
        message = message[:MESSAGE_LIMIT]

        def work(session: Session) -> None:
            session.execute(
                update(OutboxStatement)
                .where(OutboxStatement.id == id)
                .values(status=OutboxStatus.PARKED, last_error=message)
                .execution_options(synchronize_session=False)
            )
            _update_state(
                session, last_error_at=clock.now(), last_error=f"parked a statement: {message}"
            )

        self._run(work)

    def mark_retry(self, ids: Sequence[int], next_attempt_at: datetime, error: str) -> None:
        """Count a failed attempt; the statements are due again at ``next_attempt_at``."""
        error = error[:MESSAGE_LIMIT]

        def work(session: Session) -> None:
            session.execute(
                update(OutboxStatement)
                .where(OutboxStatement.id.in_(list(ids)))
                .values(
                    attempts=OutboxStatement.attempts + 1,
                    next_attempt_at=next_attempt_at,
                    last_error=error,
                )
                .execution_options(synchronize_session=False)
            )
            _update_state(session, last_error_at=clock.now(), last_error=error)

        self._run(work)

    def release(self, ids: Sequence[int]) -> None:
        """Give leased statements back untouched: they are due again at once."""
        now = clock.now()
        self._run(
            lambda session: session.execute(
                update(OutboxStatement)
                .where(
                    OutboxStatement.id.in_(list(ids)),
                    OutboxStatement.status == OutboxStatus.PENDING,
                )
                .values(next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
        )

    def record_auth_failure(self, message: str) -> None:
        """Remember that the LRS refused our credentials, for ``flask xapi status``."""
        now = clock.now()
        message = message[:MESSAGE_LIMIT]
        self._run(
            lambda session: _update_state(
                session,
                auth_failed_at=now,
                auth_failure=message,
                last_error_at=now,
                last_error=message,
            )
        )


# -- Status ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStatus:
    """Everything ``flask xapi status`` reports."""

    endpoint: str | None
    outbox: OutboxSummary
    now: datetime
    last_error: str | None
    last_error_at: datetime | None
    auth_failure: str | None
    auth_failed_at: datetime | None
    last_delivered_at: datetime | None

    @property
    def oldest_pending_age(self) -> timedelta | None:
        """How long the oldest pending statement has waited."""
        return self.outbox.oldest_pending_age(self.now)

    def as_dict(self) -> dict[str, object]:
        """Return the status as JSON-ready values (times in ISO 8601 UTC, ages in seconds)."""
        age = self.oldest_pending_age

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "endpoint": self.endpoint,
            "endpoint_configured": self.endpoint is not None,
            "pending": self.outbox.pending,
            "due": self.outbox.due,
            "delivered": self.outbox.delivered,
            "parked": self.outbox.parked,
            "oldest_pending_at": iso(self.outbox.oldest_pending_at),
            "oldest_pending_age_seconds": age.total_seconds() if age is not None else None,
            "last_error": self.last_error,
            "last_error_at": iso(self.last_error_at),
            "auth_failure": self.auth_failure,
            "auth_failed_at": iso(self.auth_failed_at),
            "last_delivered_at": iso(self.last_delivered_at),
        }


def get_status(session: Session, endpoint: str | None) -> DeliveryStatus:
    """Read the outbox counts and the delivery state; ``endpoint`` is the configured LRS."""
    now = clock.now()
    summary = summarise(session, now)
    state = get_state(session)
    last_error = state.last_error if state else None
    return DeliveryStatus(
        endpoint=endpoint,
        outbox=summary,
        now=now,
        last_error=last_error or summary.last_row_error,
        last_error_at=state.last_error_at if state else None,
        auth_failure=state.auth_failure if state else None,
        auth_failed_at=state.auth_failed_at if state else None,
        last_delivered_at=state.last_delivered_at if state else None,
    )


# -- Running the sender -----------------------------------------------------------------------


@dataclass(frozen=True)
class LrsSettings:
    """Where the LRS is and how to talk to it (from ``LIBOPPI_LRS_*`` and ``LIBOPPI_XAPI_*``)."""

    endpoint: str
    username: str | None = None
    password: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    batch_size: int = 100

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("the batch size must be at least 1")
        self.client()  # checks the endpoint URL and the timeouts (it connects only when used)

    @classmethod
    def from_settings(cls, settings: Any) -> LrsSettings | None:
        """Build from the app's settings (``lrs_*``, ``xapi_*``); None when no endpoint is set."""
        if not settings.lrs_endpoint:
            return None
        return cls(
            endpoint=settings.lrs_endpoint,
            username=settings.lrs_username,
            password=settings.lrs_password,
            connect_timeout=settings.xapi_connect_timeout,
            read_timeout=settings.xapi_read_timeout,
            batch_size=settings.xapi_batch_size,
        )

    def client(self) -> LrsClient:
        """Return a new client for the LRS (one kept-alive connection; close it after use)."""
        return LrsClient(
            self.endpoint,
            self.username or "",
            self.password or "",
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )


def flush(
    store: SqlOutboxStore,
    lrs: LrsSettings,
    *,
    limit: int | None = None,
    progress: Callable[[int], object] | None = None,
    backoff: Backoff | None = None,
) -> DeliveryReport:
    """Send what is due now, at most ``limit`` statements, batch by batch; then return.

    ``progress`` is called with the number of statements each batch handled. Stops early on an
    auth failure or when the LRS is unavailable (``stopped_reason`` says which).
    """
    with lrs.client() as client:
        return deliver_once(
            store,
            client,
            batch_size=lrs.batch_size,
            clock=clock.now,
            backoff=backoff,
            limit=limit,
            progress=progress,
        )


def serve(
    store: SqlOutboxStore,
    lrs: LrsSettings,
    stop: threading.Event,
    *,
    idle_seconds: float = DEFAULT_IDLE_SECONDS,
    backoff: Backoff | None = None,
) -> DeliveryReport:
    """Deliver until ``stop`` is set or the LRS refuses our credentials (then return at once).

    A database or other unexpected error is logged and the loop goes on after ``idle_seconds``:
    leased rows come back when their lease ends, so nothing is lost.
    """
    total = DeliveryReport()
    while not stop.is_set():
        try:
            with lrs.client() as client:
                report = run_worker(
                    store,
                    client,
                    stop,
                    batch_size=lrs.batch_size,
                    idle_seconds=idle_seconds,
                    clock=clock.now,
                    backoff=backoff,
                )
        except Exception:  # the thread must outlive a database restart or any one bad batch
            log.exception("xAPI delivery failed; trying again in %s s", idle_seconds)
            stop.wait(idle_seconds)
            continue
        total = total + report
        if report.stopped_reason is StopReason.AUTH_FAILED:
            log.error("xAPI delivery stopped: %s", report.message)
            break
    return total


class BackgroundSender:
    """The in-process sender thread (``LIBOPPI_XAPI_SENDER=thread``), for ``make run``.

    It has its own sessions from the factory, never a request's. Start it once per process;
    ``stop`` asks it to finish the batch in hand and waits for it.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        lrs: LrsSettings,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._store = SqlOutboxStore(sessions, lease=lease)
        self._lrs = lrs
        self._idle = idle_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.report: DeliveryReport | None = None

    @property
    def is_running(self) -> bool:
        """Tell whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start the thread unless it was started already; return whether this call started it."""
        with self._lock:
            if self._thread is not None:
                return False
            self._thread = threading.Thread(
                target=self._run, name="liboppi-xapi-sender", daemon=True
            )
            self._thread.start()
            log.info("xAPI sender thread started for %s", self._lrs.endpoint)
            return True

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the thread to stop after the current batch and wait up to ``timeout`` seconds."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        self.report = serve(self._store, self._lrs, self._stop, idle_seconds=self._idle)
