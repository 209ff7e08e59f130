"""A module page's user and rows are read again only after a commit, by any connection in
any process; otherwise the last read serves, which is never stale. SQLite tells of commits
by its data version; PostgreSQL by notifications its triggers send (``ChangeListener``),
and while those cannot be heard every view reads."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from liboppi.database import ChangeListener, DataVersion, data_version
from liboppi.models import User
from liboppi.services import progress
from liboppi.web.login import KeptReads, kept_reads
from tests.waiting import wait_for

from .test_module_page_cache import PAGE, _status


@pytest.fixture
def on_sqlite(app) -> bool:
    return app.extensions["liboppi.engine"].dialect.name == "sqlite"


@pytest.fixture
def listening(app) -> Callable[[], int | None]:
    """The app's data version, once it can be read (PostgreSQL's listener is listening)."""
    version = kept_reads(app).version
    wait_for(lambda: version.read() is not None, "the data version can be read")
    return version.read


@pytest.fixture
def page_reads(monkeypatch) -> list[int]:
    """The user ids of every read of a module page's user and rows, as they are made."""
    made: list[int] = []
    read = progress.signed_in_module_page

    def counted(reads, user_id, course_id, module_id):
        made.append(user_id)
        return read(reads, user_id, course_id, module_id)

    monkeypatch.setattr(progress, "signed_in_module_page", counted)
    return made


def test_a_repeat_view_reads_nothing_until_something_is_committed(
    client, logged_in, imported, page_reads, db_session, create_user, listening
):
    user = logged_in("learner")
    other = create_user("learner")
    assert client.get(PAGE).status_code == 200  # the first view records progress: a commit
    assert client.get(PAGE).status_code == 200
    page_reads.clear()
    assert client.get(PAGE).status_code == 200
    assert client.get(PAGE).status_code == 200
    assert page_reads == []

    # Any commit by another connection, even one the page does not show, reads again.
    db_session.execute(update(User).where(User.id == other.id).values(display_name="Muu"))
    db_session.commit()
    page_reads.clear()
    assert client.get(PAGE).status_code == 200
    assert page_reads == [user.id]


def test_a_completion_recorded_elsewhere_shows_on_the_next_view(
    client, logged_in, imported, other_process
):
    user = logged_in("learner")
    assert _status(client.get(PAGE).get_data(as_text=True)) == "in_progress"
    assert _status(client.get(PAGE).get_data(as_text=True)) == "in_progress"
    with other_process.connect() as connection:
        with Session(bind=connection) as session:
            progress.complete_module(
                session,
                user.id,
                "testikurssi",
                "testikurssi-lainaus",
                base_url="http://localhost",
                language="fi",
            )
            session.commit()
    assert _status(client.get(PAGE).get_data(as_text=True)) == "completed"


def test_a_user_deactivated_by_another_process_is_signed_out_on_the_next_view(
    app, client, logged_in, imported, on_sqlite, listening, database_url
):
    user = logged_in("learner")
    assert client.get(PAGE).status_code == 200
    assert client.get(PAGE).status_code == 200  # served from the last read
    before = listening()
    if on_sqlite:
        path = app.extensions["liboppi.engine"].url.database
        script = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], timeout=10)\n"
            "c.execute('UPDATE users SET is_active = 0 WHERE id = ?', (int(sys.argv[2]),))\n"
            "c.commit()\n"
        )
        target = path
    else:
        script = (
            "import psycopg, sys\n"
            "user_id = int(sys.argv[2])\n"
            "with psycopg.connect(sys.argv[1]) as c:\n"
            "    c.execute('UPDATE users SET is_active = false WHERE id = %s', (user_id,))\n"
        )
        target = database_url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run([sys.executable, "-c", script, target, str(user.id)], check=True, timeout=60)
    # SQLite's version has changed when the commit returns; PostgreSQL's when its
    # notification has arrived.
    wait_for(lambda: listening() != before, "the other process's commit is known here")
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_database_on_file_or_server_keeps_reads(app):
    assert kept_reads(app) is not None


def test_the_entries_are_bounded(app, client, logged_in, imported, listening, monkeypatch):
    monkeypatch.setattr(KeptReads, "MAX_ENTRIES", 2)
    logged_in("learner")
    modules = ("testikurssi-kirjastojarjestelma", "testikurssi-lainaus", "testikurssi-kuvat")
    for module in modules:
        assert client.get(f"/courses/testikurssi/{module}").status_code == 200
    entries = kept_reads(app).entries
    assert len(entries) <= 2  # three pages read: the third started afresh
    pages = [key for key in entries if isinstance(key, tuple)]  # (a request's user: its id)
    assert {key[2] for key in pages} <= set(modules)
    assert any(key[2] == modules[-1] for key in pages)  # the latest read is kept


# -- The data version itself ----------------------------------------------------------------


def test_the_data_version_changes_with_another_connections_commit_only(tmp_path):
    import sqlite3

    path = str(tmp_path / "v.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x INTEGER)")
    version = DataVersion(path)
    first = version.read()
    assert version.read() == first  # reading changes nothing
    writer.execute("INSERT INTO t VALUES (1)")
    second = version.read()
    assert second != first
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (2)")
    assert version.read() == second  # not committed yet
    writer.execute("ROLLBACK")
    assert version.read() == second  # rolled back: nothing was committed
    writer.close()


def test_a_forked_process_opens_its_own_connection(tmp_path, monkeypatch):
    import sqlite3

    path = str(tmp_path / "v.sqlite3")
    sqlite3.connect(path).close()
    version = DataVersion(path)
    version.read()
    parents = version._connection
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as a child process would see it
    version.read()
    assert version._connection is not parents
    parents.close()


def test_which_databases_have_a_data_version(tmp_path, database_url):
    from liboppi.database import make_engine

    memory = make_engine("sqlite://")
    on_file = make_engine(f"sqlite:///{tmp_path / 'f.sqlite3'}")
    assert data_version(memory) is None
    assert isinstance(data_version(on_file), DataVersion)
    memory.dispose()
    on_file.dispose()
    if database_url.startswith("postgresql"):
        server = make_engine(database_url)
        assert isinstance(data_version(server), ChangeListener)
        server.dispose()


def test_while_postgresql_changes_could_go_unheard_every_view_reads(
    client, logged_in, imported, page_reads, listening, on_sqlite, monkeypatch
):
    if on_sqlite:
        pytest.skip("SQLite's data version can always be read")
    user = logged_in("learner")
    assert client.get(PAGE).status_code == 200
    monkeypatch.setattr(ChangeListener, "MAX_SILENCE", 0.0)  # the listener not heard from
    page_reads.clear()
    assert client.get(PAGE).status_code == 200
    assert client.get(PAGE).status_code == 200
    assert page_reads == [user.id, user.id]


@pytest.fixture
def user_reads(monkeypatch) -> list[int]:
    """The user ids of every read of a signed-in user outside a module page."""
    from liboppi.web import login

    made: list[int] = []
    read = login.load_session_user

    def counted(connection, user_id):
        made.append(user_id)
        return read(connection, user_id)

    monkeypatch.setattr(login, "load_session_user", counted)
    return made


def test_any_other_page_reuses_its_user_until_a_commit(
    client, logged_in, listening, user_reads, db_session
):
    user = logged_in("learner")
    assert client.get("/quizzes/").status_code == 200
    user_reads.clear()
    assert client.get("/quizzes/").status_code == 200
    assert client.get("/quizzes/").status_code == 200
    assert user_reads == []
    db_session.execute(update(User).where(User.id == user.id).values(is_active=False))
    db_session.commit()
    response = client.get("/quizzes/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert user_reads == [user.id]


def test_a_repeat_view_takes_no_connection_from_the_pool(
    app, client, logged_in, imported, listening
):
    from sqlalchemy import event

    logged_in("learner")
    assert client.get(PAGE).status_code == 200
    assert client.get(PAGE).status_code == 200
    checkouts: list[object] = []
    engine = app.extensions["liboppi.engine"]

    def checked_out(*_args) -> None:
        checkouts.append(True)

    event.listen(engine, "checkout", checked_out)
    try:
        assert client.get(PAGE).status_code == 200
        assert client.get(PAGE).status_code == 200
    finally:
        event.remove(engine, "checkout", checked_out)
    assert checkouts == []


def test_with_keep_reads_off_every_request_reads(
    app, client, logged_in, imported, page_reads, user_reads
):
    from dataclasses import replace

    from liboppi.config import load_settings
    from liboppi.web import login

    assert (
        load_settings({"LIBOPPI_KEEP_READS": "off"}, Path(app.instance_path), Path()).keep_reads
        is False
    )
    app.config["LIBOPPI"] = replace(app.config["LIBOPPI"], keep_reads=False)
    login.init_app(app)
    user = logged_in("learner")
    assert kept_reads(app) is None
    page_reads.clear()
    user_reads.clear()
    for _ in range(3):
        assert client.get(PAGE).status_code == 200
        assert client.get("/quizzes/").status_code == 200
    assert page_reads == [user.id] * 3
    assert user_reads == [user.id] * 3


def test_keep_reads_takes_on_or_off_only(app_config):
    from liboppi import create_app
    from liboppi.config import ConfigError

    app_config["LIBOPPI_KEEP_READS"] = "sometimes"
    with pytest.raises(ConfigError, match="LIBOPPI_KEEP_READS must be on or off"):
        create_app(app_config)
