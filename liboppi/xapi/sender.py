"""Deliver the statements waiting in the outbox to the LRS, following XAPI.md's delivery rules.

The engine knows no database: it works through the small :class:`OutboxStore` protocol, which
the services layer implements on the outbox table. Rules, in short:

* POST batches of the stored bytes (joined into a JSON array, never re-serialised);
  200 -> delivered.
* 400 (or 409/413) on a batch -> the LRS stored none of it: PUT each statement alone by id;
  204/200 or 409 (already there) -> delivered; 400/413 -> parked with the LRS's message.
* 429, 5xx, timeouts, connection errors -> retry later with exponential backoff and full
  jitter, honouring ``Retry-After``; nothing is dropped, and the pass stops there.
* 401/403 -> record the auth failure and stop: no further request in that run.
* Any other answer (404 from a wrong endpoint, 3xx) is retried later like a 5xx.

The app builds the client from its settings: ``LrsClient(LIBOPPI_LRS_ENDPOINT,
LIBOPPI_LRS_USERNAME, LIBOPPI_LRS_PASSWORD)``, the endpoint being the xAPI base URL such as
``https://lrs.example.fi/xAPI/`` (``statements`` and ``about`` are resolved below it).
"""

from __future__ import annotations

import base64
import http.client
import random
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Protocol
from urllib.parse import quote, urlsplit

Clock = Callable[[], datetime]
Sleeper = Callable[[float], object]

XAPI_VERSION = "1.0.3"
#: Longest LRS message kept with a parked statement or an auth failure.
MESSAGE_LIMIT = 2000


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC (the default clock)."""
    return datetime.now(UTC)


# -- The outbox, as the engine sees it ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One claimed outbox row: its row id, the statement id and the exact stored bytes."""

    id: int
    statement_id: str
    payload: bytes
    attempts: int = 0


class OutboxStore(Protocol):
    """The outbox table as the sender uses it; the services layer implements it.

    A claimed item must not be claimed again until it has been marked (delivered, parked,
    retry) or released, or until a lease the store keeps for crashed workers runs out.
    """

    def claim_batch(
        self, limit: int, now: datetime, *, delivered: Sequence[int] = ()
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` due items (next attempt at or before ``now``), oldest first.

        ``delivered`` are items to mark delivered first, in the same step (one transaction
        instead of two while a batch streams through).
        """
        ...

    def mark_delivered(self, ids: Sequence[int]) -> None:
        """Record that these items are in the LRS; they are never sent again."""
        ...

    def mark_parked(self, id: int, message: str) -> None:
        """Set aside an item the LRS rejected, with its message, for a person to look at."""
        ...

    def mark_retry(self, ids: Sequence[int], next_attempt_at: datetime, error: str) -> None:
        """Count a failed attempt for these items; they are due again at ``next_attempt_at``."""
        ...

    def release(self, ids: Sequence[int]) -> None:
        """Give back claimed items untouched (no attempt counted): the run stopped before them."""
        ...

    def record_auth_failure(self, message: str) -> None:
        """Record that the LRS refused our credentials (401/403), for ``flask xapi status``."""
        ...


# -- HTTP client ----------------------------------------------------------------------------


class LrsUnreachable(Exception):
    """The LRS could not be asked or did not answer in time: connection error or timeout."""


@dataclass(frozen=True, slots=True)
class LrsResponse:
    """An LRS answer: status, the headers we use (lower-case names) and the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def message(self) -> str:
        """Return the body as text, shortened, for parking and reports."""
        text = self.body.decode("utf-8", errors="replace").strip()
        return text[:MESSAGE_LIMIT] or f"HTTP {self.status}"


class LrsClient:
    """A small xAPI 1.0.3 client over one kept-alive HTTP(S) connection, timeouts always set."""

    def __init__(
        self,
        endpoint: str,
        username: str,
        password: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"LRS endpoint must be an http(s) URL, got {endpoint!r}")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("connect and read timeouts must be positive")
        self.endpoint = endpoint
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path.rstrip("/")
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl_context = ssl_context
        credentials = f"{username}:{password}".encode()
        self._headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
            "X-Experience-API-Version": XAPI_VERSION,
        }
        self._connection: http.client.HTTPConnection | None = None

    def post_statements(self, body: bytes) -> LrsResponse:
        """POST a JSON array of statements to ``statements``."""
        return self.request("POST", "/statements", body)

    def put_statement(self, statement_id: str, payload: bytes) -> LrsResponse:
        """PUT one statement to ``statements?statementId=<id>``."""
        return self.request("PUT", f"/statements?statementId={quote(statement_id)}", payload)

    def about(self) -> LrsResponse:
        """GET ``about``: the LRS's versions; also a cheap check that it answers."""
        return self.request("GET", "/about")

    def request(self, method: str, path: str, body: bytes | None = None) -> LrsResponse:
        """Send one request below the endpoint and return the answer.

        Raises :class:`LrsUnreachable` on connection errors and timeouts. A kept-alive
        connection that the LRS closed while idle is reopened once and the request resent:
        safe, because every statement carries its id and the LRS stores it at most once.
        """
        return self.begin(method, path, body)()

    def begin_post_statements(self, body: bytes) -> Callable[[], LrsResponse]:
        """Send a POST of statements and return the function that waits for its answer.

        Between the two the caller may do other work (the outbox's bookkeeping) while the LRS
        stores the batch. The answer must be read before the next request on this client.
        """
        return self.begin("POST", "/statements", body)

    def begin(self, method: str, path: str, body: bytes | None = None) -> Callable[[], LrsResponse]:
        """Send one request and return the function that reads its answer (see ``request``)."""
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        target = self._path + path
        reused = self._connection is not None
        try:
            self._write(method, target, body, headers)
        except _STALE_CONNECTION as exc:
            self.close()
            if not reused:
                raise LrsUnreachable(f"{type(exc).__name__}: {exc}") from exc
            return lambda: self._resend(method, target, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise LrsUnreachable(_describe(exc)) from exc

        def answer() -> LrsResponse:
            try:
                return self._read()
            except _STALE_CONNECTION as exc:
                self.close()
                if not reused:
                    raise LrsUnreachable(f"{type(exc).__name__}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise LrsUnreachable(_describe(exc)) from exc
            return self._resend(method, target, body, headers)

        return answer

    def close(self) -> None:
        """Close the kept-alive connection, if any."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> LrsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connect(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._connect_timeout, context=self._ssl_context
            )
        else:
            connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._connect_timeout
            )
        connection.connect()
        # The connect timeout covered the TCP (and TLS) handshake; reads get their own.
        if connection.sock is not None:
            connection.sock.settimeout(self._read_timeout)
        return connection

    def _write(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> None:
        if self._connection is None:
            self._connection = self._connect()
        self._connection.request(method, target, body=body, headers=headers)

    def _read(self) -> LrsResponse:
        assert self._connection is not None
        response = self._connection.getresponse()
        data = response.read()
        if response.will_close:
            self.close()
        wanted = {name.lower(): value for name, value in response.getheaders()}
        return LrsResponse(response.status, wanted, data)

    def _resend(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> LrsResponse:
        """Send again on a new connection, once (the kept-alive one had been closed)."""
        try:
            self._write(method, target, body, headers)
            return self._read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise LrsUnreachable(_describe(exc)) from exc


#: What a kept-alive connection closed by the LRS while idle looks like: worth one resend.
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timed out: {exc}" if str(exc) else "timed out"
    return f"{type(exc).__name__}: {exc}"


# -- Backoff --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: wait a random 0 .. min(cap, base * 2**attempts) s.

    ``Retry-After`` from the LRS is a floor for the wait; everything is capped at ``cap``.
    """

    base: float = 2.0
    cap: float = 3600.0
    random: Callable[[], float] = field(default=random.random)

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Return the seconds to wait after ``attempts`` failed attempts."""
        ceiling = min(self.cap, self.base * 2.0 ** min(max(attempts, 0), 64))
        wait = self.random() * ceiling
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(max(wait, 0.0), self.cap)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


# -- Delivery -------------------------------------------------------------------------------


class StopReason(StrEnum):
    """Why a delivery pass stopped before the outbox had nothing more due."""

    AUTH_FAILED = "auth-failed"
    LRS_UNAVAILABLE = "lrs-unavailable"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery pass (or a worker's run) did."""

    delivered: int = 0
    parked: int = 0
    retried: int = 0
    claimed: int = 0
    stopped_reason: StopReason | None = None
    message: str | None = None

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            delivered=self.delivered + other.delivered,
            parked=self.parked + other.parked,
            retried=self.retried + other.retried,
            claimed=self.claimed + other.claimed,
            stopped_reason=other.stopped_reason,
            message=other.message,
        )


_AUTH_STATUSES = frozenset({401, 403})
# Answers to a batch that say "not as a batch": the LRS stored none of it.
_SPLIT_STATUSES = frozenset({400, 409, 413})


def join_payloads(payloads: Iterable[bytes]) -> bytes:
    """Return stored statement bytes as one JSON array, without re-serialising them."""
    return b"[" + b",".join(payloads) + b"]"


def deliver_once(
    store: OutboxStore,
    client: LrsClient,
    *,
    batch_size: int = 100,
    clock: Clock = utc_now,
    backoff: Backoff | None = None,
    max_batches: int | None = None,
    limit: int | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[int], object] | None = None,
) -> DeliveryReport:
    """Send what is due in the outbox, batch after batch, until nothing is due or a stop.

    Stops early (see ``stopped_reason``) on an auth failure or when the LRS is unavailable;
    also after ``max_batches`` batches or ``limit`` statements if given, and between batches
    once ``stop`` is set. ``progress`` is called with the size of each batch handled.

    Statements are claimed ``CLAIM_BATCHES`` batches at a time and pipelined: while the LRS
    stores the last batch of a claim, one transaction records the batches delivered so far and
    claims the next ones, so the LRS hardly waits for the database. Recording a delivery late
    is safe: until it is recorded the rows stay leased, and a crash in between only means that
    their lease runs out and the same bytes are sent again, which the LRS answers as already
    stored. Claimed statements that are not sent (the run stopped) are released.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    backoff = backoff or Backoff()
    run = _Run(store, batch_size, clock, max_batches, limit, stop)
    total = DeliveryReport()
    unrecorded: list[int] = []
    try:
        claimed, wanted = run.claim()
        while claimed:
            batches = [claimed[i : i + batch_size] for i in range(0, len(claimed), batch_size)]
            following: list[OutboxItem] = []
            following_wanted = 0
            for number, items in enumerate(batches):
                ids = [item.id for item in items]
                try:
                    answer = client.begin_post_statements(join_payloads(i.payload for i in items))
                except LrsUnreachable as exc:
                    report = _retry_later(
                        store, items, str(exc), None, clock, backoff, claimed=len(ids)
                    )
                else:
                    try:
                        if number == len(batches) - 1:
                            # While the LRS stores the claim's last batch: record the delivered
                            # and claim what comes next (after a short claim nothing was due).
                            if len(claimed) == wanted:
                                following, following_wanted = run.claim(unrecorded)
                            _record_delivered(store, unrecorded)
                        response = answer()
                    except LrsUnreachable as exc:
                        report = _retry_later(
                            store, items, str(exc), None, clock, backoff, claimed=len(ids)
                        )
                    except BaseException:
                        # The answer was not read: the connection cannot carry another request.
                        client.close()
                        raise
                    else:
                        if 200 <= response.status < 300:
                            unrecorded.extend(ids)
                            report = DeliveryReport(delivered=len(ids), claimed=len(ids))
                        else:
                            report = _refused_batch(store, client, items, response, clock, backoff)
                total = total + report
                if progress is not None:
                    progress(len(ids))
                if report.stopped_reason is not None or run.stopping():
                    unsent = [item.id for batch in batches[number + 1 :] for item in batch]
                    unsent += [item.id for item in following]
                    if unsent:
                        store.release(unsent)
                    return total
            claimed, wanted = following, following_wanted
    finally:
        _record_delivered(store, unrecorded)
    return total


#: Batches claimed at once: one short transaction per this many POSTs. A crash leaves at most
#: this many batches leased until the lease ends (then they are sent again, harmlessly).
CLAIM_BATCHES = 5


class _Run:
    """What one ``deliver_once`` may still claim: batches, statements, until a stop."""

    def __init__(
        self,
        store: OutboxStore,
        batch_size: int,
        clock: Clock,
        max_batches: int | None,
        limit: int | None,
        stop: threading.Event | None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.clock = clock
        self.batches_left = max_batches
        self.items_left = limit
        self.stop = stop

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def claim(self, delivered: list[int] | None = None) -> tuple[list[OutboxItem], int]:
        """Claim the next batches if the run may; return them and the number asked for.

        Up to ``CLAIM_BATCHES`` batches. ``delivered`` (emptied here when it is passed on) are
        recorded in the same step.
        """
        wanted = self.batch_size * CLAIM_BATCHES
        if self.batches_left is not None:
            wanted = min(wanted, self.batch_size * self.batches_left)
        if self.items_left is not None:
            wanted = min(wanted, self.items_left)
        if wanted < 1 or self.stopping():
            return [], 0
        if delivered:
            ids = list(delivered)
            delivered.clear()  # first, so that a failure is not recorded twice
            items = self.store.claim_batch(wanted, self.clock(), delivered=ids)
        else:
            items = self.store.claim_batch(wanted, self.clock())
        if items:
            if self.batches_left is not None:
                self.batches_left -= -(-len(items) // self.batch_size)
            if self.items_left is not None:
                self.items_left -= len(items)
        return items, wanted


def _record_delivered(store: OutboxStore, ids: list[int]) -> None:
    """Mark ``ids`` delivered and empty the list (first, so a failure is not recorded twice)."""
    if ids:
        batch = list(ids)
        ids.clear()
        store.mark_delivered(batch)


def run_worker(
    store: OutboxStore,
    client: LrsClient,
    stop: threading.Event,
    *,
    batch_size: int = 100,
    idle_seconds: float = 5.0,
    clock: Clock = utc_now,
    sleeper: Sleeper | None = None,
    backoff: Backoff | None = None,
) -> DeliveryReport:
    """Deliver until ``stop`` is set, sleeping ``idle_seconds`` whenever nothing more is due.

    A stop is noticed between batches. Returns the run's totals; also returns, without
    sleeping, after an auth failure: new credentials need a restart anyway, and retrying
    would only burn through the outbox.
    """
    sleep = sleeper if sleeper is not None else stop.wait
    total = DeliveryReport()
    while not stop.is_set():
        report = deliver_once(
            store, client, batch_size=batch_size, clock=clock, backoff=backoff, stop=stop
        )
        total = total + report
        if report.stopped_reason is StopReason.AUTH_FAILED or stop.is_set():
            break
        sleep(idle_seconds)
    return total


def _refused_batch(
    store: OutboxStore,
    client: LrsClient,
    items: list[OutboxItem],
    response: LrsResponse,
    clock: Clock,
    backoff: Backoff,
) -> DeliveryReport:
    """Handle any answer to a batch but success."""
    if response.status in _AUTH_STATUSES:
        return _auth_failed(store, items, response, claimed=len(items))
    if response.status in _SPLIT_STATUSES:
        return _deliver_one_by_one(store, client, items, clock, backoff)
    return _retry_later(
        store, items, _status_error(response), response, clock, backoff, claimed=len(items)
    )


def _deliver_one_by_one(
    store: OutboxStore,
    client: LrsClient,
    items: list[OutboxItem],
    clock: Clock,
    backoff: Backoff,
) -> DeliveryReport:
    delivered: list[int] = []
    parked = 0
    outcome = DeliveryReport(claimed=len(items))
    for index, item in enumerate(items):
        try:
            response = client.put_statement(item.statement_id, item.payload)
        except LrsUnreachable as exc:
            outcome = _retry_later(
                store, items[index:], str(exc), None, clock, backoff, claimed=len(items)
            )
            break
        if 200 <= response.status < 300 or response.status == 409:
            # 409: a statement with our id is already stored; ids are ours, so it is this one.
            delivered.append(item.id)
        elif response.status in (400, 413):
            store.mark_parked(item.id, response.message)
            parked += 1
        elif response.status in _AUTH_STATUSES:
            outcome = _auth_failed(store, items[index:], response, claimed=len(items))
            break
        else:
            outcome = _retry_later(
                store,
                items[index:],
                _status_error(response),
                response,
                clock,
                backoff,
                claimed=len(items),
            )
            break
    if delivered:
        store.mark_delivered(delivered)
    return DeliveryReport(
        delivered=len(delivered),
        parked=parked,
        retried=outcome.retried,
        claimed=len(items),
        stopped_reason=outcome.stopped_reason,
        message=outcome.message,
    )


def _retry_later(
    store: OutboxStore,
    items: Sequence[OutboxItem],
    error: str,
    response: LrsResponse | None,
    clock: Clock,
    backoff: Backoff,
    *,
    claimed: int,
) -> DeliveryReport:
    now = clock()
    retry_after = None
    if response is not None:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    # The batch failed as one, so it waits as one, by its most-tried item.
    attempts = max(item.attempts for item in items)
    delay = backoff.delay(attempts, retry_after)
    store.mark_retry([item.id for item in items], now + timedelta(seconds=delay), error)
    return DeliveryReport(
        retried=len(items),
        claimed=claimed,
        stopped_reason=StopReason.LRS_UNAVAILABLE,
        message=error,
    )


def _auth_failed(
    store: OutboxStore, items: Sequence[OutboxItem], response: LrsResponse, *, claimed: int
) -> DeliveryReport:
    message = f"LRS refused the credentials (HTTP {response.status}): {response.message}"
    store.release([item.id for item in items])
    store.record_auth_failure(message)
    return DeliveryReport(claimed=claimed, stopped_reason=StopReason.AUTH_FAILED, message=message)


def _status_error(response: LrsResponse) -> str:
    return f"HTTP {response.status}: {response.message}"
