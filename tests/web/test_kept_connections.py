"""A request's read connection is kept for the next request only when the pool would hand
it out as it is: same process, idle, not in a transaction, not broken, pinged after a while."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from liboppi import database
from liboppi.web import database as web_database


@pytest.fixture
def kept(app) -> web_database.KeptConnections:
    return app.extensions["liboppi.reads_engine"]


def _driver(connection):
    return connection.connection.dbapi_connection


def _one_request(app, work=None):
    """Run one request's read connection through ``work``; return its driver connection."""
    with app.test_request_context():
        reads = web_database.read_connection()
        driver = _driver(reads)
        if work is not None:
            work(reads)
        return driver


def _select(reads) -> None:
    # As the request path reads: on the driver's cursor (``DriverStatement``), never opening
    # a transaction of SQLAlchemy's.
    cursor = _driver(reads).cursor()
    cursor.execute("SELECT 1")
    cursor.close()


def test_the_next_request_gets_the_same_connection_without_the_pool(app, kept, monkeypatch):
    first = _one_request(app, _select)
    checkouts = []
    monkeypatch.setattr(kept._reads, "connect", lambda: checkouts.append(1))
    assert _one_request(app, _select) is first
    assert checkouts == []


def test_a_connection_in_a_transaction_of_sqlalchemys_is_not_kept(app, kept):
    _one_request(app, lambda reads: reads.begin())
    assert kept._idle == []


def test_a_request_that_failed_returns_its_connection_to_the_pool(app, kept):
    with pytest.raises(RuntimeError):
        with app.app_context():
            web_database.read_connection()
            raise RuntimeError("the view failed")
    assert kept._idle == []


def test_a_connection_left_in_a_transaction_is_not_kept(app, kept):
    def begin(reads):
        if reads.dialect.name == "postgresql":
            reads.exec_driver_sql("BEGIN")  # autocommit mode: the driver itself is in one
        else:
            _driver(reads).execute("BEGIN")
            _driver(reads).execute("SELECT 1")

    driver = _one_request(app, begin)
    assert kept._idle == []
    assert not _in_transaction(driver)  # the pool's reset on return ended it


def _in_transaction(driver) -> bool:
    info = getattr(driver, "info", None)
    return info.transaction_status != 0 if info is not None else driver.in_transaction


def _backend_pid(reads, into: list[int]) -> None:
    cursor = _driver(reads).cursor()
    cursor.execute("SELECT pg_backend_pid()")
    into.append(cursor.fetchone()[0])
    cursor.close()


def test_a_connection_idle_for_a_while_is_pinged_and_a_dead_one_replaced(
    app, kept, database_url, monkeypatch
):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server whose side of a connection could end")
    pids: list[int] = []
    _one_request(app, lambda reads: _backend_pid(reads, pids))
    assert len(kept._idle) == 1
    other = database.make_engine(database_url)
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
            connection.commit()
    finally:
        other.dispose()
    monkeypatch.setattr(web_database, "PING_AFTER_IDLE", 0.0)
    _one_request(app, lambda reads: _backend_pid(reads, pids))
    assert pids[1] != pids[0]


def test_a_connection_used_a_moment_ago_is_not_pinged(app, kept, monkeypatch):
    first = _one_request(app)
    pings = []
    engine = app.extensions["liboppi.engine"]
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    monkeypatch.setattr(web_database, "PING_AFTER_IDLE", 3600.0)
    assert _one_request(app) is first
    assert pings == []
    monkeypatch.setattr(web_database, "PING_AFTER_IDLE", 0.0)
    assert _one_request(app) is first
    assert pings == [first]


def test_no_more_than_the_limit_are_kept(app, kept, monkeypatch):
    monkeypatch.setattr(web_database.KeptConnections, "LIMIT", 1)
    with app.app_context():  # two requests at once (two threads): each has a connection
        outer = web_database.read_connection()
        with app.app_context():
            assert web_database.read_connection() is not outer
        assert len(kept._idle) == 1
    assert len(kept._idle) == 1  # the other went back to the pool


def test_a_forked_process_does_not_use_its_parents_connections(app, kept, monkeypatch):
    _one_request(app)
    ((parents, _released_at),) = kept._idle
    parent = os.getpid()
    monkeypatch.setattr(web_database.os, "getpid", lambda: parent + 1)
    checkouts = []
    connect = kept._reads.connect
    monkeypatch.setattr(kept._reads, "connect", lambda: checkouts.append(1) or connect())
    _one_request(app)
    assert checkouts == [1]
    kept._drop(app.extensions["liboppi.engine"])  # as disposing of it in the "child" would
    parents.close()  # the parent's to close (here the test's: there is no real fork)


def test_disposing_of_the_engine_closes_the_kept_connections(app, kept):
    first = _one_request(app)
    assert len(kept._idle) == 1
    app.extensions["liboppi.engine"].dispose()
    assert kept._idle == []
    assert _one_request(app) is not first
