"""The per-request SQLAlchemy session: opened on first use, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from liboppi.database import end_read_only, make_engine, make_session_factory


def init_app(app: Flask) -> None:
    """Create the engine for the configured database and close sessions after requests."""
    engine = make_engine(app.config["LIBOPPI"].database_url)
    app.extensions["liboppi.engine"] = engine
    app.extensions["liboppi.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close)


def get_session() -> Session:
    """The current request's (or app context's) session."""
    if "db" not in g:
        g.db = current_app.extensions["liboppi.sessions"]()
    return g.db


def _close(exc: BaseException | None) -> None:
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
