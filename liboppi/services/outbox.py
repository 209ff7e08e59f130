"""Recording xAPI statements in the outbox, in the caller's transaction.

Every service that records a learning event calls ``enqueue`` with the statement it built, by an
explicit call and before the caller commits: the event and its statement exist together or not
at all. Nothing here talks to the LRS; the sender (``flask xapi worker``/``flush``) does.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.database import DriverStatement
from liboppi.models import Library, Membership, Municipality, Region, User
from liboppi.models.outbox import OutboxStatement, OutboxStatus
from liboppi.xapi import statements as xs


def enqueue(
    session: Session,
    statement: xs.Statement,
    *,
    user_id: int | None,
    library_id: int | None,
) -> None:
    """Add a built statement to the outbox (serialised once, here) in the current transaction.

    The row is inserted at once on the session's connection, inside the caller's transaction
    (a plain Core ``INSERT``, not an ORM object waiting for a flush): it commits or rolls back
    with the event, savepoints included. Nothing is returned; read the outbox by
    ``statement.id`` when a row is needed.

    A statement built from an origin that ``origin_for`` took from its cache is checked by the
    ``INSERT`` itself (see ``origin_for``): when the user's public id, home library or that
    library's naming changed meanwhile, the statement is rebuilt for the current origin first.
    """
    basis = _unverified_basis(session, statement, user_id, library_id)
    if basis is not None:
        if _insert(session, statement, user_id, library_id, basis):
            return
        assert user_id is not None  # a basis is only ever found for a user
        statement, library_id = _rebuilt(session, statement, user_id, basis)
    _insert(session, statement, user_id, library_id, None)


def home_library_id(session: Session, user_id: int) -> int | None:
    """The library a user's learning is grouped under: their first current library membership."""
    return session.scalar(_HOME_LIBRARY, {"user_id": user_id})


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
    Callers that already hold the user's ``public_id`` may pass it.

    What a user's origin is made of (public id, home library, the library's code, names,
    municipality and region) is cached per process and database, because reading it is most
    of what recording an event costs. The cache is not trusted: another process (a web worker
    where an administrator moved the user to another library, ``flask orgs load``) may have
    changed any of it. So an origin from the cache is remembered in the session as unverified,
    and ``enqueue`` inserts a statement built from it with an ``INSERT ... SELECT ... WHERE``
    that compares those values with the database, in the same statement and transaction as
    the row (no extra round trip). When they differ, nothing is inserted; the cache entry is
    dropped, the origin read again, the statement rebuilt for it (``xs.with_origin``: same id
    and timestamp) and then inserted. A stored statement is therefore exactly what an uncached
    read in the same transaction would have produced. Changes made by this process are also
    dropped from the cache at flush (``_forget_on_change``), which only saves that rebuild.
    Enqueue in the session the origin came from: that session holds what must be checked.
    """
    cache = _cache(session)
    basis = cache.users.get(user_id)
    if basis is not None and public_id in (None, basis.public_id):
        _handed_out_unverified(session, user_id, basis)
        return _origin(basis, base_url, language), basis.library_id
    if public_id is None:
        row = session.execute(_USER_ORIGIN, {"user_id": user_id}).one_or_none()
        if row is None:
            raise LookupError(f"no user {user_id}")
        public_id, library_id = row
    else:
        library_id = home_library_id(session, user_id)
    if library_id is None:
        return _region_origin(session, user_id, public_id, base_url, language), None
    naming = cache.libraries.get(library_id)
    if naming is None:
        naming = _LibraryNaming(*session.execute(_LIBRARY_NAMING, {"library_id": library_id}).one())
        cache.remember_library(library_id, naming)
        basis = _Basis(public_id, library_id, naming)
    else:
        basis = _Basis(public_id, library_id, naming)
        _handed_out_unverified(session, user_id, basis)  # the naming came from the cache
    cache.remember_user(user_id, basis)
    return _origin(basis, base_url, language), library_id


# -- The origin cache -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LibraryNaming:
    """A library's naming for statements, as stored: code, names, municipality and region."""

    code: str
    name_fi: str
    name_sv: str | None
    municipality: str
    region: str

    def library(self) -> xs.Library:
        names = {"fi": self.name_fi}
        if self.name_sv:
            names["sv"] = self.name_sv
        return xs.Library(
            id=self.code, name=names, municipality=self.municipality, region=self.region
        )


@dataclass(frozen=True, slots=True)
class _Basis:
    """What a user's origin is built from: the values ``enqueue`` checks a cached origin by."""

    public_id: str
    library_id: int
    naming: _LibraryNaming


class _OriginCache:
    """Cached origins of one database (one engine)."""

    #: Bound on each map: a whole region's staff fits, and a full map is simply emptied.
    LIMIT = 4096

    def __init__(self) -> None:
        self.users: dict[int, _Basis] = {}
        self.libraries: dict[int, _LibraryNaming] = {}

    def remember_user(self, user_id: int, basis: _Basis) -> None:
        if len(self.users) >= self.LIMIT:
            self.users.clear()
        self.users[user_id] = basis

    def remember_library(self, library_id: int, naming: _LibraryNaming) -> None:
        if len(self.libraries) >= self.LIMIT:
            self.libraries.clear()
        self.libraries[library_id] = naming


#: Per engine, so that two apps (or tests) on different databases never share entries; weak, so
#: that a disposed engine takes its entries with it.
_caches: weakref.WeakKeyDictionary[Engine, _OriginCache] = weakref.WeakKeyDictionary()
#: ``session.info`` key: user id -> the cached bases handed out in this session, not yet checked.
_UNVERIFIED = "liboppi.outbox.unverified_origins"


def _cache(session: Session) -> _OriginCache:
    engine = session.get_bind().engine
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = _OriginCache()
    return cache


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, _context: object) -> None:
    if not _caches:
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Library | Municipality | Region):
            _caches.clear()
            return
        if isinstance(instance, User | Membership):
            user_id = instance.id if isinstance(instance, User) else instance.user_id
            for cache in list(_caches.values()):
                cache.users.pop(user_id, None)


def _handed_out_unverified(session: Session, user_id: int, basis: _Basis) -> None:
    session.info.setdefault(_UNVERIFIED, {}).setdefault(user_id, set()).add(basis)


def _basis_of(origin: xs.Origin, library_id: int) -> _Basis:
    """What an origin of a user with a home library was built from (``_origin``'s inverse)."""
    library = origin.library
    names = library.name
    assert isinstance(names, Mapping)
    naming = _LibraryNaming(
        library.id, names["fi"], names.get("sv"), library.municipality, library.region
    )
    return _Basis(origin.user_id, library_id, naming)


def _origin(basis: _Basis, base_url: str, language: str) -> xs.Origin:
    return xs.Origin(
        base_url=base_url,
        user_id=basis.public_id,
        library=basis.naming.library(),
        language=language,
    )


def _region_origin(
    session: Session, user_id: int, public_id: str, base_url: str, language: str
) -> xs.Origin:
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
    return xs.Origin(base_url=base_url, user_id=public_id, library=group, language=language)


def _unverified_basis(
    session: Session | None, statement: xs.Statement, user_id: int | None, library_id: int | None
) -> _Basis | None:
    """The unchecked cached basis ``statement`` was built from, if it was built from one (in
    ``session``; None: there is none to hand out origins)."""
    if user_id is None or session is None:
        return None
    bases = session.info.get(_UNVERIFIED, {}).get(user_id)
    if not bases:
        return None
    actor = statement.data.get("actor") or {}
    name = (actor.get("account") or {}).get("name")
    for basis in bases:
        if basis.public_id == name and basis.library_id == library_id:
            return basis
    return None


def _rebuilt(
    session: Session, statement: xs.Statement, user_id: int, stale: _Basis
) -> tuple[xs.Statement, int | None]:
    """Rebuild a statement whose cached origin turned out stale, for the user's origin now."""
    for cache in list(_caches.values()):
        cache.users.pop(user_id, None)
        cache.libraries.pop(stale.library_id, None)
    actor = statement.data["actor"]["account"]
    base_url = actor["homePage"]
    language = statement.data["context"]["language"]
    origin, library_id = origin_for(session, user_id, base_url=base_url, language=language)
    return xs.with_origin(statement, _origin(stale, base_url, language), origin), library_id


def _insert(
    session: Session,
    statement: xs.Statement,
    user_id: int | None,
    library_id: int | None,
    basis: _Basis | None,
) -> bool:
    """Insert the outbox row; with a ``basis``, only if it still holds (return whether it did)."""
    values = _row_values(statement, user_id, library_id, basis)
    if basis is None:
        session.connection().execute(_INSERT, values)
        return True
    return _CHECKED_INSERT.rowcount(session.connection(), values) == 1


def _row_values(
    statement: xs.Statement, user_id: int | None, library_id: int | None, basis: _Basis | None
) -> dict[str, object]:
    """The outbox row's values, and with a ``basis`` the values its checks compare."""
    now = clock.now()
    values: dict[str, object] = {
        "statement_id": statement.id,
        "payload": xs.serialise(statement),
        "verb": statement.data["verb"]["id"],
        "user_id": user_id,
        "library_id": library_id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
    if basis is not None:
        naming = basis.naming
        values.update(
            public_id=basis.public_id,
            code=naming.code,
            name_fi=naming.name_fi,
            name_sv=naming.name_sv,
            municipality=naming.municipality,
            region=naming.region,
        )
    return values


class GatedEnqueue:
    """An event's write and its statement's outbox row in one SQL statement (PostgreSQL).

    On PostgreSQL every statement is a round trip to a server that shares the machine's cores,
    so an event written by one statement and its outbox row by another cost two. Here the
    event's write, an ``UPDATE ... RETURNING`` given once at import time, runs as a
    data-modifying CTE of the outbox ``INSERT``, which inserts its row only when the write
    returned one (and, for a statement built from a cached origin, only when the origin's
    checks hold, as in ``enqueue``). SQLite runs no data-modifying CTE: use ``enqueue`` there.
    """

    def __init__(self, write: Any) -> None:
        self._plain = _gated_insert(write)
        self._checked = _gated_insert(write, *_ORIGIN_CHECKS)
        # The write's values and the row's are passed together: no name may mean both.
        clash = set(write.compile().params) & {*_COLUMNS, *_CHECKED_VALUES}
        if clash:
            raise ValueError(f"the write's parameters clash with the outbox row's: {clash}")

    def enqueue(
        self,
        session: Session,
        statement: xs.Statement,
        *,
        user_id: int | None,
        library_id: int | None,
        write_values: Mapping[str, Any],
    ) -> bool:
        """Run the write with ``write_values`` and, if it wrote a row, insert ``statement``.

        True when both happened. False when nothing was inserted: either the write changed no
        row, or the statement's cached origin no longer holds, and then the write *was* made.
        The caller tells the two apart by running the write again on its own, so the write
        must be one that a second run repeats exactly (the same values, and a condition that
        what it set does not falsify) and, when that changes a row, stores the statement with
        ``enqueue``, which rebuilds it for the user's origin as it is now.
        """
        basis = _unverified_basis(session, statement, user_id, library_id)
        values = {**write_values, **_row_values(statement, user_id, library_id, basis)}
        gated = self._plain if basis is None else self._checked
        return gated.rowcount(session.connection(), values) == 1


class Enqueued(NamedTuple):
    """What ``AtomicEnqueue.enqueue`` did: the written row's ``returning`` value (None when
    nothing was written or inserted), and when nothing was, its ``report``."""

    written: Any
    report: Any = None


class AtomicEnqueue:
    """An event's write and its statement's outbox row, both or neither, outside the ORM
    session's transaction: on a request's read connection (``liboppi.web.database``).

    On PostgreSQL (in autocommit mode) they are one SQL statement, its own transaction: the
    write, an ``INSERT`` or ``UPDATE``, as a data-modifying CTE that gates the row's
    ``INSERT`` (as ``GatedEnqueue``). On SQLite they are two statements in one short
    transaction, committed or rolled back here: the write, and the row only when it wrote.
    Unlike ``GatedEnqueue``, a statement built from a cached origin has the origin's checks in
    the write's own conditions: with no transaction of the caller's around it, a write made
    while the row was not could not be completed afterwards. ``write(conditions, insert)`` is
    given the extra conditions (none, or the origin's checks) and the dialect's ``insert``
    construct; its parameters ``user_id`` and ``library_id``, when it has them, are the outbox
    row's. ``returning`` is the column of the written row that ``enqueue`` returns (its id).

    ``report``, a boolean SQL expression over the write's parameters, tells the caller why a
    write that wrote nothing did not: it is evaluated on the database as the write found it,
    in the same statement on PostgreSQL (its data-modifying CTEs under one ``SELECT``), in
    the same transaction on SQLite, so that telling costs no round trip of its own.

    ``enqueue(synchronous_commit=False)`` commits the one statement asynchronously on
    PostgreSQL (``set_config('synchronous_commit', 'off', true)``, for its own transaction
    only): acknowledged before its WAL is flushed, flushed by the WAL writer within three
    ``wal_writer_delay`` or by any later synchronous commit, whichever comes first. A crash
    of the server meanwhile loses the write and its row together, never one of them; the
    sender's claim is a synchronous commit, so no statement goes to the LRS before its row is
    flushed. SQLite's commits are always as its ``synchronous=NORMAL`` makes them.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Any], Any], Any],
        returning: Any,
        report: Any = None,
    ) -> None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        #: PostgreSQL's one statement, by whether the statement's origin is checked and
        #: whether it commits synchronously.
        self._gated = {
            (checked, synchronous): _reported_insert(
                write(conditions, pg_insert).returning(returning),
                returning.key,
                report if report is not None else null(),
                synchronous_commit=synchronous,
            )
            for checked, conditions in ((False, ()), (True, _ORIGIN_CHECKS))
            for synchronous in (False, True)
        }
        #: SQLite's write, by whether the origin is checked (the row is then ``_INSERT_ROW``).
        self._writes = {
            checked: DriverStatement(write(conditions, sqlite_insert).returning(returning))
            for checked, conditions in ((False, ()), (True, _ORIGIN_CHECKS))
        }
        #: SQLite's report, read after a write that wrote nothing (none without a report).
        self._report = (
            DriverStatement(select(report.label("report"))) if report is not None else None
        )
        clash = set(write((), pg_insert).compile().params) & {*_COLUMNS, *_CHECKED_VALUES} - {
            "user_id",
            "library_id",
        }
        if clash:
            raise ValueError(f"the write's parameters clash with the outbox row's: {clash}")

    def enqueue(
        self,
        connection: Connection,
        session: Session | None,
        statement: xs.Statement,
        *,
        user_id: int | None,
        library_id: int | None,
        write_values: Mapping[str, Any],
        kept_origin: xs.Origin | None = None,
        synchronous_commit: bool = True,
    ) -> Enqueued:
        """Run the write with ``write_values`` and, with it, insert ``statement``: both are
        made, or neither is (the write's conditions or the cached origin's checks did not
        hold; then the report says why). ``session`` holds the origins ``origin_for`` gave.
        ``kept_origin`` is the origin the statement was built from when it was not given in
        ``session`` but kept by the caller since an earlier request: it is checked as a
        cached one is. ``connection`` is outside any transaction
        (``attempts.can_save_unlocked``). ``synchronous_commit``: see the class."""
        if kept_origin is not None and library_id is not None:
            basis: _Basis | None = _basis_of(kept_origin, library_id)
        else:
            basis = _unverified_basis(session, statement, user_id, library_id)
        checked = basis is not None
        values = {**write_values, **_row_values(statement, user_id, library_id, basis)}
        if connection.dialect.name == "postgresql":
            ((written, report, *_),) = self._gated[checked, synchronous_commit].returned_direct(
                connection, values
            )
            return Enqueued(written, report if written is None else None)
        # SQLite's driver begins a transaction before the write, which takes the database's
        # one write lock (and this process's write turn) until the commit or rollback here.
        driver = connection.connection.dbapi_connection
        try:
            rows = self._writes[checked].returned_direct(connection, values)
            if len(rows) != 1:
                report = None
                if self._report is not None:
                    ((report,),) = self._report.rows(connection, values)
                driver.rollback()
                return Enqueued(None, report)
            _INSERT_ROW.rowcount_direct(connection, values)
            driver.commit()
        except BaseException:
            with contextlib.suppress(Exception):  # the error may have closed the connection
                driver.rollback()
            raise
        return Enqueued(rows[0][0])


# The statements are built once with bound parameters: building a select or insert costs
# several times more than SQLite takes to run it.
_HOME_LIBRARY = (
    select(Membership.library_id)
    .where(
        Membership.user_id == bindparam("user_id"),
        Membership.library_id.is_not(None),
        Membership.left_at.is_(None),
    )
    .order_by(Membership.id)
    # A literal LIMIT, not a bound one: with ``LIMIT $n`` PostgreSQL's generic plan for the
    # checked INSERT below looked costlier than a custom one, so it planned the statement
    # anew on every execution (0.4 ms, three times the INSERT itself).
    .limit(literal_column("1"))
)
_USER_ORIGIN = select(User.public_id, _HOME_LIBRARY.scalar_subquery()).where(
    User.id == bindparam("user_id")
)
_LIBRARY_NAMING = (
    select(Library.code, Library.name_fi, Library.name_sv, Municipality.code, Region.code)
    .join(Municipality, Library.municipality_id == Municipality.id)
    .join(Region, Municipality.region_id == Region.id)
    .where(Library.id == bindparam("library_id"))
)
_OUTBOX = OutboxStatement.__table__
#: ``inline``: the new row's id is not needed, so PostgreSQL is not asked to return it.
_INSERT = insert(_OUTBOX).inline()
_COLUMNS = (
    "statement_id",
    "payload",
    "verb",
    "user_id",
    "library_id",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
)
#: The values ``enqueue`` checks a cached origin by, beside the row's user and library ids.
_CHECKED_VALUES = ("public_id", "code", "name_fi", "name_sv", "municipality", "region")
#: Where the cached basis still holds: the user's public id, their home library and that
#: library's naming are what the database says now.
_ORIGIN_CHECKS = (
    select(User.id)
    .where(User.id == bindparam("user_id"), User.public_id == bindparam("public_id"))
    .exists(),
    _HOME_LIBRARY.scalar_subquery() == bindparam("library_id"),
    select(Library.id)
    .join(Municipality, Library.municipality_id == Municipality.id)
    .join(Region, Municipality.region_id == Region.id)
    .where(
        Library.id == bindparam("library_id"),
        Library.code == bindparam("code"),
        Library.name_fi == bindparam("name_fi"),
        Library.name_sv.is_not_distinct_from(bindparam("name_sv")),
        Municipality.code == bindparam("municipality"),
        Region.code == bindparam("region"),
    )
    .exists(),
)


def _gated_insert(write: Any, *conditions: Any) -> DriverStatement:
    """The outbox row's ``INSERT``, made only when ``write`` (a data-modifying CTE, given as an
    ``INSERT`` or ``UPDATE ... RETURNING``) returned a row and ``conditions`` hold."""
    gate = write.cte("gated_write")
    written = select(literal_column("1")).select_from(gate).exists()
    return DriverStatement(_insert_where(written, *conditions).add_cte(gate))


#: Literal SQL: no parameters for the driver to send with every save.
_ASYNCHRONOUS_COMMIT = literal_column("set_config('synchronous_commit', 'off', true)").label(
    "commit"
)


def _reported_insert(
    write: Any, returning: str, report: Any, *, synchronous_commit: bool
) -> DriverStatement:
    """``_gated_insert`` as a ``SELECT`` of one row: the written row's ``returning`` column
    (NULL when it wrote none) and ``report``, which, like every part of one statement, sees
    the database as the statement found it, not the write's changes. PostgreSQL runs each
    data-modifying CTE once, to completion, whether or not the ``SELECT`` reads it.

    Not ``synchronous_commit``: a third column sets ``synchronous_commit`` off for the
    statement's own (implicit) transaction, which its commit reads; the connection's setting
    is back as it was after it."""
    gate = write.cte("gated_write")
    written = select(literal_column("1")).select_from(gate).exists()
    queued = _insert_where(written).returning(literal_column("1")).cte("queued")
    columns = [
        select(gate.c[returning]).scalar_subquery().label("written"),
        report.label("report"),
    ]
    if not synchronous_commit:
        columns.append(_ASYNCHRONOUS_COMMIT)
    return DriverStatement(select(*columns).add_cte(gate).add_cte(queued))


def _insert_where(*conditions: Any) -> Any:
    """``INSERT INTO outbox_statements ... SELECT <the row's values> WHERE <conditions>``."""
    return insert(_OUTBOX).from_select(
        list(_COLUMNS),
        select(*(bindparam(name, type_=_OUTBOX.c[name].type) for name in _COLUMNS)).where(
            *conditions
        ),
    )


#: The row, unconditionally (``AtomicEnqueue`` on SQLite, after a write that checked the origin).
_INSERT_ROW = DriverStatement(_insert_where())
#: The row, only where the cached basis still holds. The driver's row count tells whether it
#: did (SQLAlchemy's own result reported -1 for this ``INSERT ... SELECT`` with psycopg; the
#: driver's count is the server's command tag).
_CHECKED_INSERT = DriverStatement(_insert_where(*_ORIGIN_CHECKS))


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
