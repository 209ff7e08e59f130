"""Engine and session factory for the configured database (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

#: How long a thread waits for its process's turn to write before it goes on without it (and
#: SQLite's own busy timeout takes over): the same 10 s as ``busy_timeout`` below.
WRITE_TURN_TIMEOUT = 10.0
#: Statements that make pysqlite begin a transaction that holds SQLite's write lock, or that
#: take that lock themselves.
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
_write_turns: dict[str, threading.Lock] = {}
_write_turns_guard = threading.Lock()


def _write_turn(database: str) -> threading.Lock:
    with _write_turns_guard:
        return _write_turns.setdefault(database, threading.Lock())


#: Statement texts already classified: the same few texts come again and again, and a dict
#: lookup (the text's hash is kept by the string) costs less than splitting a long text.
_write_texts: dict[str, bool] = {}


def _is_write(sql: str) -> bool:
    found = _write_texts.get(sql)
    if found is None:
        words = sql.lstrip().split(None, 1)
        found = bool(words) and words[0].upper() in _WRITES
        if len(_write_texts) >= 1024:
            _write_texts.clear()
        _write_texts[sql] = found
    return found


class _SerialisedWritesCursor(sqlite3.Cursor):
    def _in_turn(self, run, sql, arguments):
        connection = self.connection
        if _is_write(sql):
            connection.take_write_turn()
        try:
            return run(sql, arguments)
        finally:
            if not connection.in_transaction:
                connection.end_write_turn()

    def execute(self, sql, parameters=(), /):
        return self._in_turn(super().execute, sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self._in_turn(super().executemany, sql, seq_of_parameters)


class SerialisedWritesConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions take turns within the process.

    SQLite lets one connection write at a time; a second writer sleeps in SQLite's busy
    handler, in steps of up to 100 ms, and under load (several threads of one worker
    saving answers) those sleeps become the latency. Here a thread about to write first
    waits for its process's turn on a lock, which wakes it the moment the writer before
    it commits or rolls back; SQLite's busy handler only arbitrates between processes.
    A thread that waits longer than ``WRITE_TURN_TIMEOUT`` goes on without the turn.
    """

    def __init__(self, database, *args, **kwargs) -> None:
        super().__init__(database, *args, **kwargs)
        self._turn = _write_turn(str(database))
        self._has_turn = False

    def cursor(self, factory=_SerialisedWritesCursor):
        return super().cursor(factory)

    def take_write_turn(self) -> None:
        if not self._has_turn:
            self._has_turn = self._turn.acquire(timeout=WRITE_TURN_TIMEOUT)

    def end_write_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self._turn.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_write_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_write_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_write_turn()


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers go on while a writer commits; the busy timeout makes a second
    # writer wait instead of failing at once; SQLite leaves foreign keys off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the pragmas and pool settings Liboppi relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "factory": SerialisedWritesConnection},
        )
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _ping_when_idle(engine)
    event.listen(engine, "begin", _note_no_writes)
    event.listen(engine, "before_cursor_execute", _note_write)
    return engine


#: A pooled PostgreSQL connection idle for this long is pinged before it is handed out.
PING_AFTER_IDLE = 1.0
_CHECKED_IN_AT = "liboppi.checked_in_at"


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection on checkout only when it has been idle for a while.

    ``pool_pre_ping`` pings on every checkout: one more round trip to the server on every
    request, a fifth of a module page's. A connection handed back less than
    ``PING_AFTER_IDLE`` seconds ago was working then, so it is given out unchecked; an older
    one is pinged, and when the ping finds the server gone, the pool is invalidated and a new
    connection made, as pre-ping does. A restart of the server inside that second can still
    fail the request that meets it; SQLAlchemy then invalidates the pool, and the next
    requests reconnect.
    """
    dialect = engine.dialect

    def checked_in(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    def checkout(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE:
            return  # new (just connected) or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checkout)


_WROTE = "liboppi.wrote"


def _note_no_writes(connection) -> None:
    connection.info[_WROTE] = False


def _note_write(connection, _cursor, statement, _parameters, _context, _executemany) -> None:
    if not connection.info.get(_WROTE) and (
        _is_write(statement) or statement.lstrip()[:4].upper() == "WITH"
    ):
        connection.info[_WROTE] = True


def end_read_only(session: Session) -> None:
    """End the session's transaction with COMMIT when it wrote nothing (PostgreSQL).

    psycopg deallocates every prepared statement on ROLLBACK, and closing a session rolls
    back; so with requests that only read, no statement would ever stay prepared and each
    would be planned again every time (a join costs more to plan than to run). For a
    transaction that wrote nothing, COMMIT and ROLLBACK have the same effect; a transaction
    that wrote anything, or may have (``WITH`` counts as a write), is left to roll back.
    """
    if not session.in_transaction():
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.info.get(_WROTE) is False:
        session.commit()


_DATABASE_KEY = "_liboppi_database_key"


def database_key(engine: Engine) -> str:
    """The engine's database as text, for keys of in-process caches shared by engines.

    A URL's own hash renders it as text (quoting every part) each time it is asked for;
    this renders it once per engine object. The password is masked, as in ``str(url)``.
    """
    key = getattr(engine, _DATABASE_KEY, None)
    if key is None:
        key = str(engine.url)
        setattr(engine, _DATABASE_KEY, key)
    return key


class DataVersion:
    """A number that changes whenever anything is committed to a SQLite database file.

    SQLite's ``PRAGMA data_version``, read on a connection of its own that never writes: its
    value changes after every commit by any other connection, in this process or another
    (https://sqlite.org/pragma.html#pragma_data_version). Reading it is one short read
    transaction, a few microseconds: a cache of reads made when it had a value is as fresh
    as reading again while it keeps that value. The connection is opened on first use in each
    process (never shared across a fork) and used by one thread at a time.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def read(self) -> int:
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                self._connection = sqlite3.connect(
                    self.path, check_same_thread=False, isolation_level=None
                )
                self._pid = os.getpid()
            (value,) = self._connection.execute("PRAGMA data_version").fetchone()
            return int(value)


#: The channel PostgreSQL's triggers notify on when a commit changes a table a module page
#: reads (migration 0008).
CHANGES_CHANNEL = "liboppi_changes"
#: The listener connection's ``application_name``, as ``pg_stat_activity`` shows it.
LISTENER_NAME = "liboppi change listener"
#: How a listener's own heartbeat notification's payload begins (the triggers send none).
HEARTBEAT_PREFIX = "heartbeat "


class ChangeListener:
    """A number that changes whenever what a module page, or a request's user, is read from
    is committed to PostgreSQL.

    PostgreSQL has no number like SQLite's data version that could be read without a round
    trip to the server, the very cost a cache checked with it would save. Instead, a thread
    of the process listens on ``CHANGES_CHANNEL`` on a connection of its own: triggers on
    every table a module page reads, the user's included (migration 0008), notify it when a
    transaction that changed one commits, and each notification changes the number. So
    does every commit that wrote, made by this process through SQLAlchemy, at once
    (``_note_commit``), so a process sees its own writes on its next request.

    What this gives up against reading every time: another process's commit acts here when
    its notification arrives, not when the commit returns; on the same machine that is a
    fraction of a millisecond, and at most ``MAX_SILENCE`` when the listener is stuck.
    ``read`` returns None, and nothing may be reused, until the listener has heard its own
    first heartbeat, while it is disconnected, and whenever its last heartbeat that came
    back was sent more than ``MAX_SILENCE`` seconds ago. A heartbeat is a notification the
    listener sends on its channel every ``HEARTBEAT`` seconds and waits for (``_heartbeat``):
    its return proves that every notification of an earlier commit has arrived, and that
    notifications reach this connection at all. On reconnecting the number changes, since
    notifications sent meanwhile were lost. The
    thread starts with the first ``read`` in each process (never shared across a fork) and
    stops when the engine is disposed.
    """

    HEARTBEAT = 0.5
    MAX_SILENCE = 1.5
    RETRY = 1.0
    #: Where heartbeats are sent: the channel listened on, so one that comes back proves
    #: that notifications reach this connection.
    HEARTBEAT_CHANNEL = CHANGES_CHANNEL

    def __init__(self, engine: Engine) -> None:
        self._dialect = engine.dialect
        self._url = engine.url
        self._lock = threading.Lock()
        self._generation = 0
        self._live = False
        self._checked_at = 0.0
        self._pid = 0
        self._stopped = threading.Event()
        #: The server process of the listening connection, while there is one.
        self.backend_pid: int | None = None
        _listeners[id(self)] = self
        event.listen(engine, "engine_disposed", lambda _engine: self.stop())

    def read(self) -> int | None:
        """The current number, or None when changes may be going unheard (see above)."""
        if self._pid != os.getpid():
            self._start()
        if not self._live or time.monotonic() - self._checked_at > self.MAX_SILENCE:
            return None
        return self._generation

    def changed(self) -> None:
        with self._lock:
            self._generation += 1

    def stop(self) -> None:
        self._stopped.set()
        self._live = False
        _listeners.pop(id(self), None)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid() or self._stopped.is_set():
                return
            self._pid = os.getpid()
            self._live = False
        threading.Thread(target=self._listen, name="liboppi-change-listener", daemon=True).start()

    def _connect(self) -> Any:
        arguments, options = self._dialect.create_connect_args(self._url)
        options = {**options, "application_name": LISTENER_NAME}
        connection = self._dialect.loaded_dbapi.connect(*arguments, **options)
        connection.autocommit = True
        return connection

    def _listen(self) -> None:
        pid = os.getpid()
        while not self._stopped.is_set() and self._pid == pid:
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {CHANGES_CHANNEL}")
                    self.backend_pid = connection.info.backend_pid
                    self.changed()  # what was committed while nobody listened is unknown
                    beats = 0
                    while not self._stopped.is_set() and self._pid == pid:
                        beats += 1
                        if self._heartbeat(connection, f"{HEARTBEAT_PREFIX}{pid}.{beats}"):
                            self._live = True
                        for notify in connection.notifies(timeout=self.HEARTBEAT):
                            self._heard(notify.payload)
            except (self._dialect.loaded_dbapi.Error, OSError):
                pass
            finally:
                if self._pid == pid:  # else a newer thread (after a fork) owns the state
                    self._live = False
                    self.backend_pid = None
            self._stopped.wait(self.RETRY)

    def _heartbeat(self, connection: Any, token: str) -> bool:
        """Notify the channel with ``token`` and wait for it to come back; True when it did.

        Notifications arrive in the order their transactions committed, so once this one
        (committed after ``sent``) has arrived, so has every notification of a commit made
        before ``sent``: only then is ``sent`` recorded as the time up to which every change
        is known. A connection that can send but not receive (a pooler that does not keep
        ``LISTEN`` on it) never gets its heartbeat back, and the listener is never trusted.
        """
        sent = time.monotonic()
        connection.execute("SELECT pg_notify(%s, %s)", (self.HEARTBEAT_CHANNEL, token))
        for notify in connection.notifies(timeout=self.MAX_SILENCE):
            if notify.payload == token:
                self._checked_at = sent
                return True
            self._heard(notify.payload)
        return False

    def _heard(self, payload: str) -> None:
        # The triggers' notifications carry no payload; other processes' heartbeats do.
        if not payload.startswith(HEARTBEAT_PREFIX):
            self.changed()


#: Listeners by their id, for ``_note_commit``; a listener leaves when its engine is disposed.
_listeners: dict[int, ChangeListener] = {}


@event.listens_for(Engine, "commit")
def _note_commit(connection) -> None:
    """A commit by this process, through any engine: every listener's number changes now.

    Only a transaction that wrote (or may have: ``_note_write``) counts; a request that only
    read ends with a COMMIT too (``end_read_only``). The trigger's notification changes the
    number again when it arrives.
    """
    if _listeners and connection.info.get(_WROTE) is not False:
        for listener in list(_listeners.values()):
            listener.changed()


def data_version(engine: Engine) -> DataVersion | ChangeListener | None:
    """The engine's data version: a SQLite file's (``DataVersion``), PostgreSQL's told by its
    notifications (``ChangeListener``); None for an in-memory SQLite database, which is
    private to its one connection.
    """
    if engine.dialect.name == "postgresql":
        return ChangeListener(engine)
    if engine.dialect.name != "sqlite":
        return None
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return DataVersion(path)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; objects stay usable after commit for rendering."""
    return sessionmaker(engine, expire_on_commit=False)


class DriverStatement:
    """A Core statement compiled once per dialect and run with the driver's own ``execute``.

    For the few statements on a hot path (each request's user, the module page, the outbox
    row): SQLAlchemy's execution of a compiled construct (cache lookup, parameter processing,
    a result object and its rows) costs about 0.1 ms per call, as much as PostgreSQL takes to
    run a small INSERT and ten times what SQLite takes to run a keyed SELECT. The parameters
    still pass through the columns' bind processors (``UTCDateTime``, enums) and result rows
    through the result processors, so the driver receives and the caller gets exactly what
    ``connection.execute(statement, values)`` would send and return; the engine's events
    (write notes, SQLite write turns) see the statement as usual.

    It relies on SQLAlchemy's compiled-statement internals (``_bind_processors``,
    ``_result_columns``, ``_cached_result_processor``, ``_handle_dbapi_exception``): SQLAlchemy
    is pinned in ``pyproject.toml``, and ``tests/test_driver_statement.py`` compares the
    results with SQLAlchemy's own on both databases, so an upgrade that changes them fails
    there first.
    """

    def __init__(self, statement) -> None:
        if not statement.is_dml and not statement.is_select:
            raise TypeError("DriverStatement runs SELECT, INSERT, UPDATE or DELETE statements")
        self.statement = statement
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def _compile(self, dialect) -> _Compiled:
        key = (dialect.name, dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _Compiled(self.statement, dialect)
        return found

    def rowcount(self, connection, values: Mapping[str, Any]) -> int:
        """Run the statement with ``values`` on ``connection`` and return its row count."""
        compiled = self._compile(connection.dialect)
        return connection.exec_driver_sql(compiled.sql, compiled.parameters(values)).rowcount

    def rowcount_direct(self, connection, values: Mapping[str, Any]) -> int:
        """``rowcount`` straight through a driver cursor, as ``rows`` runs a SELECT, on a
        connection outside SQLAlchemy's transactions: in autocommit mode (PostgreSQL), or in
        a transaction the caller ends on the driver's connection (``outbox.AtomicEnqueue`` on
        SQLite). There is then no transaction of SQLAlchemy's whose writes the engine's
        events would note (``_note_write``), and its execution context around the statement
        cost more than a small write."""
        return self._direct(connection, values, returning=False)

    def returned_direct(self, connection, values: Mapping[str, Any]) -> list[Any]:
        """The rows a write gives (its ``RETURNING``, or a ``SELECT`` over data-modifying
        CTEs), run as ``rowcount_direct`` runs it."""
        if not (self.statement.is_select or self.statement._returning):
            raise TypeError("returned_direct() runs a write with RETURNING, or a SELECT")
        return self._direct(connection, values, returning=True)

    def _direct(self, connection, values: Mapping[str, Any], *, returning: bool) -> Any:
        compiled = self._compile(connection.dialect)
        parameters = compiled.parameters(values)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            if not returning:
                return cursor.rowcount
            # Fetched at once: on SQLite the statement is in progress, and a commit fails,
            # until its rows are all read.
            raw = cursor.fetchall()
            description = cursor.description if compiled.result_processors is None else None
        except connection.dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)
            raise  # not reached: the call above raises SQLAlchemy's wrapped error
        finally:
            cursor.close()
        return compiled.rows(raw, description)

    def rows(self, connection, values: Mapping[str, Any]) -> list[Any]:
        """Run the SELECT with ``values``; its rows as named tuples, values as SQLAlchemy's.

        ``connection`` must be in a transaction (a session's ``connection()`` is) or in
        autocommit mode (a request's ``read_connection()``): on any other connection the
        driver would open a transaction SQLAlchemy does not know of. The SELECT
        goes straight to a driver cursor: a result object built from the cursor's description
        would cost more than the query. A SELECT needs none of the engine's events.
        """
        if not self.statement.is_select:
            raise TypeError("rows() runs a SELECT; run a write with rowcount()")
        compiled = self._compile(connection.dialect)
        parameters = compiled.parameters(values)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            raw = cursor.fetchall()
            # Only the first result's description is used (see _Compiled); psycopg builds
            # it anew, a column object per column, every time it is asked for.
            description = cursor.description if compiled.result_processors is None else None
        except connection.dialect.loaded_dbapi.Error as error:
            # As SQLAlchemy's own execution does: wrap the driver's error (OperationalError,
            # IntegrityError ...) and invalidate the connection when it was lost.
            connection._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)
        finally:
            cursor.close()
        return compiled.rows(raw, description)


def _keeps_none(processor: Any) -> bool:
    try:
        return processor(None) is None
    except Exception:  # a processor that cannot take None is given every value, as before
        return False


class _Compiled:
    """One statement's SQL text for a dialect, and how to send parameters and read rows."""

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.positional = tuple(compiled.positiontup) if compiled.positional else None
        self.defaults = dict(compiled.params)
        self.bind_processors = dict(compiled._bind_processors)
        self.dialect = dialect
        self.columns = compiled._result_columns
        self.row_type = namedtuple("Row", [c.keyname for c in self.columns], rename=True)  # noqa: PYI024
        #: Set from the first result's description: processors depend on the driver's type
        #: codes (a PostgreSQL float's processor differs by the column's server type).
        self.result_processors: list[tuple[int, Any, bool]] | None = None

    def _processors(self, description) -> list[tuple[int, Any, bool]]:
        # Each with whether it turns NULL into None, as nearly all do: then a NULL (most of
        # a LEFT JOIN's columns) is not passed through it, which is most of its cost.
        processors = []
        for index, column in enumerate(self.columns):
            type_code = description[index][1] if description else None
            processor = column.type._cached_result_processor(self.dialect, type_code)
            if processor is not None:
                processors.append((index, processor, _keeps_none(processor)))
        self.result_processors = processors
        return processors

    def parameters(self, values: Mapping[str, Any]) -> Any:
        merged = {**self.defaults, **values}
        for name, process in self.bind_processors.items():
            if name in merged:
                merged[name] = process(merged[name])
        if self.positional is not None:
            return tuple(merged[name] for name in self.positional)
        return merged

    def rows(self, raw: list[Any], description) -> list[Any]:
        make, processors = self.row_type._make, self.result_processors
        if processors is None:
            processors = self._processors(description)
        if not processors:
            return [make(row) for row in raw]
        rows = []
        for row in raw:
            values = list(row)
            for index, process, keeps_none in processors:
                value = values[index]
                if value is not None or not keeps_none:
                    values[index] = process(value)
            rows.append(make(values))
        return rows
