"""Recording xAPI statements in the outbox, in the caller's transaction.

Every service that records a learning event calls ``enqueue`` with the statement it built, by an
explicit call and before the caller commits: the event and its statement exist together or not
at all. Nothing here talks to the LRS; the sender (``flask xapi worker``/``flush``) does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.models import Library, Membership, Municipality, Region, User
from liboppi.models.outbox import OutboxStatement, OutboxStatus
from liboppi.xapi import statements as xs


def enqueue(
    session: Session,
    statement: xs.Statement,
    *,
    user_id: int | None,
    library_id: int | None,
) -> OutboxStatement:
    """Add a built statement to the outbox (serialised once, here) in the current transaction."""
    payload = xs.serialise(statement)
    verb = json.loads(payload)["verb"]["id"]
    now = clock.now()
    row = OutboxStatement(
        statement_id=statement.id,
        payload=payload,
        verb=verb,
        user_id=user_id,
        library_id=library_id,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    return row


def home_library_id(session: Session, user_id: int) -> int | None:
    """The library a user's learning is grouped under: their first current library membership."""
    return session.scalar(_home_library_query(user_id))


@dataclass(frozen=True)
class _LibraryNaming:
    """A library's naming for statements: its code, names, municipality and region codes."""

    code: str
    names: tuple[tuple[str, str], ...]
    municipality: str
    region: str


#: Library naming per (engine url, library id). Org reference data changes only by
#: ``flask orgs load``; any flush that adds, changes or deletes a library, municipality or
#: region clears it (see ``_clear_on_org_change``), and ``clear_origin_cache`` clears it by hand.
_library_naming: dict[tuple[str, int], _LibraryNaming] = {}
_LIBRARY_NAMING_MAX = 4096


def clear_origin_cache() -> None:
    """Forget the cached library naming (after org reference data changed)."""
    _library_naming.clear()


@event.listens_for(Session, "after_flush")
def _clear_on_org_change(session: Session, _context: object) -> None:
    if not _library_naming:
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Library | Municipality | Region):
            _library_naming.clear()
            return


def _naming_for(session: Session, library_id: int) -> _LibraryNaming:
    key = (str(session.get_bind().engine.url), library_id)
    naming = _library_naming.get(key)
    if naming is None:
        code, name_fi, name_sv, municipality, region = session.execute(
            select(Library.code, Library.name_fi, Library.name_sv, Municipality.code, Region.code)
            .join(Municipality, Library.municipality_id == Municipality.id)
            .join(Region, Municipality.region_id == Region.id)
            .where(Library.id == library_id)
        ).one()
        names = (("fi", name_fi),) + ((("sv", name_sv),) if name_sv else ())
        naming = _LibraryNaming(code=code, names=names, municipality=municipality, region=region)
        if len(_library_naming) >= _LIBRARY_NAMING_MAX:
            _library_naming.clear()
        _library_naming[key] = naming
    return naming


def _home_library_query(user_id: int):
    return (
        select(Membership.library_id)
        .where(
            Membership.user_id == user_id,
            Membership.library_id.is_not(None),
            Membership.left_at.is_(None),
        )
        .order_by(Membership.id)
        .limit(1)
    )


def origin_for(
    session: Session,
    user_id: int,
    *,
    base_url: str,
    language: str = "fi",
    public_id: str | None = None,
) -> tuple[xs.Origin, int | None]:
    """The statement origin (actor, library grouping, language) for a user, and the library id.

    A user with no library (a regional coordinator, say) is grouped under their region.
    Callers that already hold the user's ``public_id`` pass it, saving reading the user again;
    a library's naming is cached per process.
    """
    if public_id is None:
        row = session.execute(
            select(User.public_id, _home_library_query(user_id).scalar_subquery()).where(
                User.id == user_id
            )
        ).one_or_none()
        if row is None:
            raise LookupError(f"no user {user_id}")
        public_id, library_id = row
    else:
        library_id = home_library_id(session, user_id)
    if library_id is not None:
        naming = _naming_for(session, library_id)
        group = xs.Library(
            id=naming.code,
            name=dict(naming.names),
            municipality=naming.municipality,
            region=naming.region,
        )
    else:
        region = session.scalar(
            select(Region)
            .join(Membership, Membership.region_id == Region.id)
            .where(Membership.user_id == user_id)
            .limit(1)
        )
        code = region.code if region else "none"
        group = xs.Library(
            id=f"region-{code}",
            name={"fi": region.name_fi if region else code},
            municipality=code,
            region=code,
        )
    return xs.Origin(
        base_url=base_url, user_id=public_id, library=group, language=language
    ), library_id


# -- Reading the outbox: status, export, retrying parked statements ----------------------------


@dataclass(frozen=True)
class OutboxSummary:
    """How many statements are where, for ``flask xapi status`` and monitoring."""

    pending: int
    due: int
    delivered: int
    parked: int
    oldest_pending_at: datetime | None
    #: The newest per-statement error among pending and parked statements.
    last_row_error: str | None

    def oldest_pending_age(self, now: datetime) -> timedelta | None:
        """How long the oldest pending statement has waited, at ``now``."""
        if self.oldest_pending_at is None:
            return None
        return max(now - self.oldest_pending_at, timedelta(0))


def summarise(session: Session, now: datetime) -> OutboxSummary:
    """Count the outbox by status; ``due`` are pending statements whose next attempt has come."""
    counts = dict(
        session.execute(
            select(OutboxStatement.status, func.count()).group_by(OutboxStatement.status)
        ).all()
    )
    due = session.scalar(
        select(func.count()).where(
            OutboxStatement.status == OutboxStatus.PENDING,
            OutboxStatement.next_attempt_at <= now,
        )
    )
    oldest = session.scalar(
        select(func.min(OutboxStatement.created_at)).where(
            OutboxStatement.status == OutboxStatus.PENDING
        )
    )
    if isinstance(oldest, str):  # SQLite returns aggregates of datetimes as text
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    last_error = session.scalar(
        select(OutboxStatement.last_error)
        .where(
            OutboxStatement.status.in_([OutboxStatus.PENDING, OutboxStatus.PARKED]),
            OutboxStatement.last_error.is_not(None),
        )
        .order_by(OutboxStatement.id.desc())
        .limit(1)
    )
    return OutboxSummary(
        pending=counts.get(OutboxStatus.PENDING, 0),
        due=due or 0,
        delivered=counts.get(OutboxStatus.DELIVERED, 0),
        parked=counts.get(OutboxStatus.PARKED, 0),
        oldest_pending_at=oldest,
        last_row_error=last_error,
    )


def iter_payloads(
    session: Session, statuses: Iterable[OutboxStatus] = (), *, chunk: int = 500
) -> Iterator[bytes]:
    """Yield the stored statement bytes, exactly as stored, oldest first.

    ``statuses`` narrows to those statuses (all when empty). Rows are read in chunks by id, so
    an outbox of any size streams in constant memory.
    """
    wanted = list(statuses)
    last_id = 0
    while True:
        query = (
            select(OutboxStatement.id, OutboxStatement.payload)
            .where(OutboxStatement.id > last_id)
            .order_by(OutboxStatement.id)
            .limit(chunk)
        )
        if wanted:
            query = query.where(OutboxStatement.status.in_(wanted))
        rows = session.execute(query).all()
        if not rows:
            return
        for row_id, payload in rows:
            yield bytes(payload)
            last_id = row_id


def retry_parked(session: Session, statement_ids: Iterable[str] = ()) -> int:
    """Put parked statements back in line (all, or those with ``statement_ids``); return how many.

    For after a person fixed what the LRS rejected (its configuration, an extension it did not
    know): the stored bytes are sent again as they are. The last error stays until delivery.
    """
    ids = list(statement_ids)
    query = (
        update(OutboxStatement)
        .where(OutboxStatement.status == OutboxStatus.PARKED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=clock.now())
    )
    if ids:
        query = query.where(OutboxStatement.statement_id.in_(ids))
    return session.execute(query).rowcount or 0
