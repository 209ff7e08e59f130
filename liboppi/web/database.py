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
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from liboppi.database import database_key, end_read_only, make_engine, make_session_factory

_ENGINE = "liboppi.engine"
_READS_ENGINE = "liboppi.reads_engine"


def init_app(app: Flask) -> None:
    """Create the engine for the configured database and close sessions after requests."""
    engine = make_engine(app.config["LIBOPPI"].database_url)
    app.extensions[_ENGINE] = engine
    app.extensions["liboppi.sessions"] = make_session_factory(engine)
    # The same pool; a connection handed out through this one is put in autocommit mode and
    # put back to the default when it is returned (SQLAlchemy resets the isolation level).
    app.extensions[_READS_ENGINE] = (
        engine.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql"
        else engine
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
        g.db_reads = current_app.extensions[_READS_ENGINE].connect()
    return g.db_reads


def _close(exc: BaseException | None) -> None:
    reads = g.pop("db_reads", None)
    if reads is not None:
        reads.close()
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
