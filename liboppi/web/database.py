"""The per-request database access: an ORM session, and a connection for plain reads.

The session is opened on first use and closed at teardown; everything that writes goes
through it, in one transaction per request, except a plain answer save, which writes its
answer and statement together on the read connection (``attempts.save_unlocked``).
``read_connection`` is for the few reads on every request's path (the signed-in user, the
module page's light query): each of its statements runs on its own, outside any
transaction. On PostgreSQL that saves the
``BEGIN`` and ``COMMIT`` round trips a transaction costs (with the server on the same
small machine, each round trip costs about as much as the query); SQLite's driver only
opens a transaction before a write, so its reads were on their own already. Nothing written
in the request's session is visible to it before that session commits: use it for reads
that come before the request's writes, or that do not depend on them.

The read connection is not handed back to the pool after each request but kept for the
next one (``KeptConnections``): taking a connection from SQLAlchemy's pool and giving it
back (its events, the isolation level set and reset, the reset on return) cost about a
tenth of a plain answer save's CPU.
"""

from __future__ import annotations

import os
import threading
import time

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from liboppi.database import (
    PING_AFTER_IDLE,
    database_key,
    end_read_only,
    make_engine,
    make_session_factory,
)

_ENGINE = "liboppi.engine"
_READS_ENGINE = "liboppi.reads_engine"


def init_app(app: Flask) -> None:
    """Create the engine for the configured database and close sessions after requests."""
    engine = make_engine(app.config["LIBOPPI"].database_url)
    app.extensions[_ENGINE] = engine
    app.extensions["liboppi.sessions"] = make_session_factory(engine)
    # The same pool; a connection handed out through this one is put in autocommit mode and
    # put back to the default when it is returned (SQLAlchemy resets the isolation level).
    app.extensions[_READS_ENGINE] = KeptConnections(
        engine,
        engine.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql"
        else engine,
    )
    app.teardown_appcontext(_close)


def get_session() -> Session:
    """The current request's (or app context's) session."""
    if "db" not in g:
        g.db = current_app.extensions["liboppi.sessions"]()
    return g.db


def database_name() -> str:
    """The app's database as in-process caches name it (``liboppi.database.database_key``)."""
    return database_key(current_app.extensions[_ENGINE])


def read_connection() -> Connection:
    """The current request's connection for reads outside its transaction (see above)."""
    if "db_reads" not in g:
        g.db_reads = current_app.extensions[_READS_ENGINE].take()
    return g.db_reads


class KeptConnections:
    """Read connections kept between requests, up to ``LIMIT`` per process (one per worker
    thread that is busy at the same time; more go back to the pool).

    A kept connection is given out again only as the pool would give it out: in the process
    that took it (never across a fork), not closed or invalidated, outside any transaction
    (SQLAlchemy's or the driver's own, which ``outbox.AtomicEnqueue`` opens on SQLite), after
    a request that ended without an error, and pinged first when it has been idle for
    ``PING_AFTER_IDLE`` seconds (``liboppi.database._ping_when_idle``). Anything else goes
    back to the pool, which resets it. Disposing of the engine closes the kept ones too.
    """

    LIMIT = 4

    def __init__(self, engine: Engine, reads: Engine) -> None:
        self._reads = reads
        self._lock = threading.Lock()
        self._idle: list[tuple[Connection, float]] = []
        self._pid = os.getpid()
        event.listen(engine, "engine_disposed", self._drop)

    def take(self) -> Connection:
        """A connection for one request's reads: a kept one, or one from the pool."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the kept ones are the parent's
                self._idle, self._pid = [], os.getpid()
            entry = self._idle.pop() if self._idle else None
        if entry is not None:
            connection, released_at = entry
            if time.monotonic() - released_at < PING_AFTER_IDLE or _answers_ping(connection):
                return connection
        return self._reads.connect()

    def give_back(self, connection: Connection, failed: bool) -> None:
        """Keep ``connection`` for a later request, or return it to the pool."""
        if not failed and _reusable(connection):
            with self._lock:
                if self._pid == os.getpid() and len(self._idle) < self.LIMIT:
                    self._idle.append((connection, time.monotonic()))
                    return
        connection.close()

    def _drop(self, _engine: Engine) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            mine = self._pid == os.getpid()
        if mine:
            for connection, _released_at in idle:
                connection.invalidate()
                connection.close()


def _reusable(connection: Connection) -> bool:
    if connection.closed or connection.invalidated or connection.in_transaction():
        return False
    driver = connection.connection.dbapi_connection
    info = getattr(driver, "info", None)  # psycopg: the server's transaction status
    if info is not None:
        return info.transaction_status == 0  # IDLE: not in a transaction
    return not driver.in_transaction  # sqlite3


def _answers_ping(connection: Connection) -> bool:
    """Ping a connection idle for a while; a failed one is invalidated and closed."""
    try:
        connection.dialect.do_ping(connection.connection.dbapi_connection)
        return True
    except connection.dialect.loaded_dbapi.Error:
        connection.invalidate()
        connection.close()
        return False


def _close(exc: BaseException | None) -> None:
    reads = g.pop("db_reads", None)
    if reads is not None:
        current_app.extensions[_READS_ENGINE].give_back(reads, failed=exc is not None)
    db = g.pop("db", None)
    if db is not None:
        try:
            if exc is None:
                end_read_only(db)
        except SQLAlchemyError:
            # Closing rolls back, which ends any transaction just as well.
            current_app.logger.warning("ending a read-only transaction failed", exc_info=True)
        finally:
            db.close()
