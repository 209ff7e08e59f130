"""An answer save holds its attempt's row lock on PostgreSQL: two sessions at once."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from liboppi.models import Answer, Attempt, AttemptStatus
from liboppi.services import attempts
from tests.quiz_engine.conftest import RECORDER, quiz_text

pytestmark = pytest.mark.skipif(
    not os.environ.get("LIBOPPI_DATABASE_URL", "").startswith("postgresql"),
    reason="row locks are PostgreSQL's; SQLite serialises whole writes",
)


@pytest.fixture
def learner(create_user):
    return create_user("learner")


@pytest.fixture
def started(app, db_session, install_quiz, learner, frozen_clock) -> int:
    """An attempt at a one-question quiz, answered "false"; its id."""
    install_quiz(quiz_text(types=("truefalse",)))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "false"}, RECORDER)
    db_session.commit()
    return attempt.id


def waits_for_a_lock(session, pid: int) -> bool:
    """Tell whether the backend ``pid`` is waiting for a lock, within a few seconds."""
    for _ in range(200):
        event = session.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()
        session.rollback()
        if event == "Lock":
            return True
        time.sleep(0.02)
    return False


def test_a_submit_waits_for_a_save_that_has_loaded_the_attempt(app, db_session, learner, started):
    saving, submitting = app.extensions["liboppi.sessions"](), app.extensions["liboppi.sessions"]()
    try:
        attempts.get_loaded(saving, learner.id, started, RECORDER, lock=True)
        submitting.connection().exec_driver_sql("SET lock_timeout = '300ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            attempts.submit_attempt(submitting, learner.id, started, RECORDER)
        submitting.rollback()
        saving.commit()
        attempts.submit_attempt(submitting, learner.id, started, RECORDER)
        submitting.commit()
    finally:
        saving.close()
        submitting.close()
    assert db_session.get(Attempt, started).status is AttemptStatus.SUBMITTED


def test_a_save_that_waited_for_the_lock_reads_the_answers_saved_meanwhile(
    app, db_session, learner, started
):
    # The first tab changes the answer to "true" while the second waits to save "false"
    # (the answer it had seen): the second must not take "false" for unchanged.
    first, second = app.extensions["liboppi.sessions"](), app.extensions["liboppi.sessions"]()
    outcomes = []
    try:
        attempts.get_loaded(first, learner.id, started, RECORDER, lock=True)
        pid = second.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()

        def save_second() -> None:
            outcomes.append(
                attempts.save_answers(second, learner.id, started, {"tosi": "false"}, RECORDER)
            )
            second.commit()

        waiting = threading.Thread(target=save_second)
        waiting.start()
        try:
            assert waits_for_a_lock(db_session, pid)
            attempts.save_answers(first, learner.id, started, {"tosi": "true"}, RECORDER)
            first.commit()
        finally:
            waiting.join(timeout=30)
    finally:
        first.close()
        second.close()
    assert [outcome.saved for outcome in outcomes] == [("tosi",)]
    answer = db_session.scalars(select(Answer).where(Answer.attempt_id == started)).one()
    assert answer.response == "false"
