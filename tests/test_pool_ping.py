"""PostgreSQL connections are pinged on checkout only after being idle; a dead one is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from liboppi import database


@pytest.fixture
def engine(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the idle ping is PostgreSQL's pool set-up; SQLite has no server to lose")
    engine = database.make_engine(database_url)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(database_url: str, pid: int) -> None:
    other = database.make_engine(database_url)
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
    finally:
        other.dispose()


def test_an_idle_connection_whose_server_side_ended_is_replaced(engine, database_url, monkeypatch):
    pid = _backend_pid(engine)
    _terminate(database_url, pid)
    monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)  # every pooled connection is "idle"
    assert _backend_pid(engine) != pid  # the ping found it dead: a new connection served


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch):
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    monkeypatch.setattr(database, "PING_AFTER_IDLE", 3600.0)
    first = _backend_pid(engine)
    assert _backend_pid(engine) == first
    assert pings == []
    monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)
    _backend_pid(engine)
    assert len(pings) == 1
