"""PostgreSQL's data version: a number told of every commit to what a module page reads, by
the server's notifications and by this process's own commits; unknown (None) whenever a
change could go unheard."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Table, text
from sqlalchemy.sql.util import find_tables

from liboppi import database
from liboppi.database import ChangeListener, data_version
from liboppi.services import progress
from tests.waiting import wait_for


@pytest.fixture
def url(database_url) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("the change listener is PostgreSQL's; SQLite has its data version")
    return database_url


@pytest.fixture
def engine(url):
    engine = database.make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def listener(engine) -> ChangeListener:
    found = data_version(engine)
    assert isinstance(found, ChangeListener)
    wait_for(lambda: found.read() is not None, "the listener listens")
    return found


@pytest.fixture
def raw(url) -> Iterator[psycopg.Connection]:
    """A connection of another client: no commit of it passes through this process's engines."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        yield connection


def _touch(connection: psycopg.Connection, table: str) -> None:
    # A statement-level trigger fires whether or not any row matched.
    connection.execute(f"UPDATE {table} SET id = id WHERE false")


def _settled(listener: ChangeListener) -> int:
    """The version once every notification of a commit made before this call has arrived: a
    check of the listener's connection that started after it has come back (the listener
    counts the notifications that came with the check before it records the check)."""
    asked = time.monotonic()
    wait_for(lambda: listener._checked_at > asked, "a check of the connection after the commits")
    version = listener.read()
    assert version is not None
    return version


def test_another_clients_commit_changes_the_version_and_its_rollback_does_not(listener, raw):
    before = listener.read()
    _touch(raw, "memberships")
    raw.rollback()
    assert _settled(listener) == before
    _touch(raw, "module_progress")
    raw.commit()
    assert _settled(listener) == before + 1


def test_a_commit_of_many_statements_and_tables_is_one_change(listener, raw):
    before = listener.read()
    for table in ("users", "memberships", "courses", "users"):
        _touch(raw, table)
    raw.commit()
    assert _settled(listener) == before + 1


def test_answers_attempts_and_the_outbox_notify_nothing(listener, raw):
    before = listener.read()
    for table in ("quiz_answers", "quiz_attempts", "outbox_statements", "xapi_delivery_state"):
        _touch(raw, table)
    raw.commit()
    assert _settled(listener) == before


def test_every_table_a_module_page_reads_notifies(url, raw):
    statement = progress._SIGNED_IN_PAGE.statement
    read = {
        (t.element if not isinstance(t, Table) else t).name
        for t in find_tables(statement, include_aliases=True, include_joins=True)
        if isinstance(getattr(t, "element", t), Table)
    }
    assert {"users", "memberships", "courses", "modules", "module_versions"} <= read
    triggered = {
        name
        for (name,) in raw.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'liboppi_notify_change'"
        )
    }
    assert read <= triggered


def test_this_process_commits_change_it_at_once_when_they_wrote(listener, engine):
    before = listener.read()
    with engine.connect() as connection:  # reads only, and ends with COMMIT
        connection.execute(text("SELECT count(*) FROM users"))
        connection.commit()
    assert listener.read() == before
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET id = id WHERE false"))
    assert listener.read() != before  # no waiting for the notification


def test_a_lost_connection_keeps_nothing_until_listening_again(listener, raw):
    before = listener.read()
    pid = listener.backend_pid
    raw.execute("SELECT pg_terminate_backend(%s)", (pid,))
    raw.commit()
    wait_for(lambda: listener.read() is None, "the listener notices the loss")
    wait_for(lambda: listener.read() is not None, "the listener listens again")
    assert listener.backend_pid != pid
    assert listener.read() > before  # what was missed meanwhile counts as a change


def test_a_listener_not_heard_from_lately_keeps_nothing(listener, monkeypatch):
    monkeypatch.setattr(ChangeListener, "MAX_SILENCE", 0.0)
    assert listener.read() is None


def test_a_disposed_engine_stops_its_listener(engine, listener, raw):
    pid = listener.backend_pid
    engine.dispose()
    assert listener.read() is None
    raw.autocommit = True  # pg_stat_activity is read once per transaction
    wait_for(
        lambda: not raw.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchall(),
        "the listener's connection is closed",
    )
    assert listener.read() is None


def test_a_forked_process_listens_on_its_own_connection(listener, monkeypatch):
    parents = listener.backend_pid
    real = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real + 1)  # as a child process would see it
    assert listener.read() is None  # not listening yet in this "process"
    wait_for(lambda: listener.read() is not None, "the child's listener listens")
    assert listener.backend_pid != parents


def test_other_listeners_heartbeats_are_no_change(listener, raw):
    before = listener.read()
    raw.execute("SELECT pg_notify('liboppi_changes', 'heartbeat 1.1')")
    raw.commit()
    assert _settled(listener) == before


def test_a_listener_whose_notifications_do_not_come_back_is_never_trusted(engine, monkeypatch):
    # As behind a pooler that runs LISTEN and NOTIFY on different server connections: the
    # connection works, but the listener's heartbeats never reach it.
    monkeypatch.setattr(ChangeListener, "HEARTBEAT_CHANNEL", "liboppi_elsewhere")
    monkeypatch.setattr(ChangeListener, "MAX_SILENCE", 0.3)
    deaf = data_version(engine)
    assert deaf.read() is None  # starts the listener
    wait_for(lambda: deaf.backend_pid is not None, "the listener is connected")
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert deaf.read() is None
        time.sleep(0.05)
