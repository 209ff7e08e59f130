"""How a plain answer save commits (``LIBOPPI_ANSWER_COMMIT``).

On PostgreSQL, asynchronously by default: the save is acknowledged before its WAL is flushed
to disk, as SQLite's ``synchronous=NORMAL`` does for every commit, and flushed by the WAL
writer or the next synchronous commit soon after (``outbox.AtomicEnqueue``). Only the save's
own transaction: the connection's setting stays as it was, and everything else commits
synchronously. Told here by PostgreSQL's own count of WAL flushes (``pg_stat_wal``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from liboppi.config import ConfigError, load_settings
from liboppi.models import Role
from tests.quiz_engine.conftest import quiz_text, statements

from .test_pages import start
from .test_unlocked_save import _save

SAVES = 16  # even: each round of changes ends with the answer it began with


@pytest.fixture
def quiz(install_quiz):
    install_quiz(quiz_text(types=("truefalse",)))


@pytest.fixture
def postgresql(db_session) -> None:
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's commits only: SQLite's follow synchronous=NORMAL")


@pytest.fixture
def wal_flushes(app, db_session, postgresql):
    """A function giving the number of WAL flushes made so far on the server, counted with
    the app's read connection's own (which PostgreSQL reports only now and then)."""
    method = db_session.scalar(text("SHOW wal_sync_method"))
    if db_session.scalar(text("SHOW fsync")) != "on" or method not in {"fdatasync", "fsync"}:
        pytest.skip(f"pg_stat_wal counts no flushes with fsync off or {method}")
    reads = app.extensions["liboppi.reads_engine"]

    def count() -> int:
        connection = reads.take()  # the kept connection the saves were made on
        try:
            connection.exec_driver_sql("SELECT pg_stat_force_next_flush()")
            connection.exec_driver_sql("SELECT 1")  # its end reports the backend's counts
        finally:
            reads.give_back(connection, failed=False)
        db_session.commit()  # a new snapshot of the statistics
        return db_session.scalar(text("SELECT wal_sync FROM pg_stat_wal"))

    return count


def _flushes_for_changes(client, attempt_id: int, wal_flushes) -> int:
    """WAL flushes made while the saved answer ("false" before and after) is changed
    ``SAVES`` times."""
    before = wal_flushes()
    for index in range(SAVES):
        assert _save(client, attempt_id, ("true", "false")[index % 2]).status_code == 302
    return wal_flushes() - before


def test_plain_saves_commit_without_waiting_for_a_flush_and_synchronously_when_set(
    app, client, logged_in, quiz, db_session, wal_flushes, locked_saves
):
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    assert _save(client, attempt_id, "false").status_code == 302
    # The WAL writer flushes every 200 ms (wal_writer_delay), and may once more on waking.
    assert _flushes_for_changes(client, attempt_id, wal_flushes) <= SAVES // 3

    app.config["LIBOPPI"] = replace(app.config["LIBOPPI"], answer_commit_synchronous=True)
    assert _flushes_for_changes(client, attempt_id, wal_flushes) >= SAVES
    assert locked_saves == []
    answered = statements(db_session, "/answered")
    assert len(answered) == 1 + 2 * SAVES  # every save made, with its statement


def test_the_connection_commits_synchronously_after_an_asynchronous_save(
    app, client, logged_in, quiz, postgresql
):
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    for response in ("true", "false"):
        assert _save(client, attempt_id, response).status_code == 302
    reads = app.extensions["liboppi.reads_engine"]
    connection = reads.take()
    try:
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        reads.give_back(connection, failed=False)


def test_answer_commit_is_asynchronous_unless_set_and_takes_two_values_only(app_config, tmp_path):
    from liboppi import create_app

    def synchronous(value: str | None) -> bool:
        environ = {} if value is None else {"LIBOPPI_ANSWER_COMMIT": value}
        return load_settings(environ, tmp_path, tmp_path).answer_commit_synchronous

    assert (synchronous(None), synchronous("asynchronous"), synchronous("synchronous")) == (
        False,
        False,
        True,
    )
    app_config["LIBOPPI_ANSWER_COMMIT"] = "off"
    with pytest.raises(ConfigError, match="LIBOPPI_ANSWER_COMMIT must be asynchronous or"):
        create_app(app_config)
