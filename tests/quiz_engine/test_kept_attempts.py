"""On PostgreSQL a worker keeps an attempt after a plain save, so the next change to a saved
answer is one statement with nothing read first (``liboppi.web.quiz.kept_attempts``). What
was kept is never trusted for what another worker can change: the write's conditions hold
the answer, the attempt and the learner's origin to the database, and a quiz or course
changed since it was kept is read again. Whatever the write does not find as it was kept is
read and saved as before. SQLite keeps none (its data version changes with every save)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from liboppi.models import Answer, Membership, Quiz, Role
from liboppi.services import attempts
from liboppi.web.login import kept_reads
from tests.quiz_engine.conftest import RECORDER, elsewhere, quiz_text, statements
from tests.waiting import wait_for
from tests.web_client import post_form

from .test_pages import QUIZ, start


@pytest.fixture
def quiz(install_quiz):
    install_quiz(quiz_text(types=("truefalse", "short")))


@pytest.fixture
def on_postgresql(app) -> bool:
    return app.extensions["liboppi.engine"].dialect.name == "postgresql"


@pytest.fixture
def listening(app, on_postgresql) -> None:
    """Wait until PostgreSQL's change listener can tell the data version."""
    if on_postgresql:
        version = kept_reads(app).version
        wait_for(lambda: version.read() is not None, "the data version can be read")


@pytest.fixture
def loads(monkeypatch) -> list[int]:
    """The attempt ids of every read of an attempt for a plain save, as they are made."""
    made: list[int] = []
    load = attempts.load

    def counted(session, user_id, attempt_id, **kwargs):
        if kwargs.get("connection") is not None:
            made.append(attempt_id)
        return load(session, user_id, attempt_id, **kwargs)

    monkeypatch.setattr(attempts, "load", counted)
    return made


def _save(client, attempt_id: int, response: str, number: int = 1):
    question = {1: "tosi", 2: "lyhyt"}[number]
    url = f"/quizzes/attempts/{attempt_id}/questions/{number}"
    fields = {"shown": question, f"q.{question}": response, "go": "next"}
    return post_form(client, url, fields, page=f"/quizzes/{QUIZ}")


def _answer(db_session, attempt_id: int, question: str = "tosi") -> Answer:
    db_session.expire_all()
    return db_session.scalars(
        select(Answer).where(Answer.attempt_id == attempt_id, Answer.question_id == question)
    ).one()


def _answered(db_session) -> list[str]:
    return [s["result"]["response"] for s in statements(db_session, "/answered")]


def test_a_changed_answer_is_saved_on_the_kept_attempt_without_reading_it(
    client, logged_in, quiz, db_session, loads, locked_saves, listening, on_postgresql
):
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    for response in ("true", "false", "true", "false"):
        assert _save(client, attempt_id, response).status_code == 302
    # The first save reads the attempt; on PostgreSQL the changes after it read nothing.
    assert loads == ([attempt_id] if on_postgresql else [attempt_id] * 4)
    assert locked_saves == []
    first = _answer(db_session, attempt_id)
    assert first.response == "false"
    answered = statements(db_session, "/answered")
    assert [s["result"]["response"] for s in answered] == ["true", "false", "true", "false"]
    # Each statement is what a read would have built: the same question, attempt, learner,
    # library and time to answer (the first save's).
    assert len({s["result"]["duration"] for s in answered}) == 1
    for key in ("actor", "verb", "object", "context"):
        assert all(s[key] == answered[0][key] for s in answered), key


def test_the_same_response_again_writes_nothing_whatever_was_kept(
    client, logged_in, quiz, db_session, app, loads, locked_saves, listening
):
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")
    _save(client, attempt_id, "false")  # kept: "false"
    saved_at = _answer(db_session, attempt_id).saved_at
    assert _save(client, attempt_id, "false").status_code == 302  # the database has it
    assert _answer(db_session, attempt_id).saved_at == saved_at
    assert _answered(db_session) == ["true", "false"]

    # Another worker saves "true": the kept "false" is out of date.
    elsewhere(
        app, lambda s: attempts.save_answers(s, user.id, attempt_id, {"tosi": "true"}, RECORDER)
    )
    assert _save(client, attempt_id, "true").status_code == 302  # what the database has
    assert _answered(db_session) == ["true", "false", "true"]  # only the other worker's
    assert _save(client, attempt_id, "false").status_code == 302  # as kept, but a change
    assert _answer(db_session, attempt_id).response == "false"
    assert _answered(db_session) == ["true", "false", "true", "false"]
    assert len(locked_saves) == 1  # the other worker's


def test_an_attempt_submitted_elsewhere_is_not_written_by_a_kept_save(
    client, logged_in, quiz, db_session, app, locked_saves, listening
):
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")
    _save(client, attempt_id, "false")
    elsewhere(app, lambda s: attempts.submit_attempt(s, user.id, attempt_id, RECORDER))
    response = _save(client, attempt_id, "true")
    assert response.status_code == 302 and response.headers["Location"].endswith("/result")
    assert _answer(db_session, attempt_id).response == "false"  # as submitted
    assert _answered(db_session) == ["true", "false"]
    assert locked_saves == []


def test_a_first_answer_to_another_question_reads_the_attempt_for_its_time(
    client, logged_in, quiz, db_session, app, loads, listening, frozen_clock
):
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")
    frozen_clock.advance(timedelta(seconds=30))
    _save(client, attempt_id, "false")  # kept
    frozen_clock.advance(timedelta(seconds=20))
    # Another worker saves the second question meanwhile: the time to answer it counts
    # from the latest save, which the kept attempt does not know of.
    elsewhere(
        app, lambda s: attempts.save_answers(s, user.id, attempt_id, {"lyhyt": "a"}, RECORDER)
    )
    frozen_clock.advance(timedelta(seconds=7))
    loads.clear()
    assert _save(client, attempt_id, "lainaajatunnus", number=2).status_code == 302
    assert loads == [attempt_id]
    answer = _answer(db_session, attempt_id, "lyhyt")
    assert answer.response == "lainaajatunnus"
    assert answer.seconds_spent == 20  # the other worker's first save, 20 s after the latest


def test_a_change_to_the_quiz_reads_the_attempt_again(
    client, logged_in, quiz, db_session, app, loads, listening, on_postgresql, other_process
):
    if not on_postgresql:
        pytest.skip("SQLite keeps no attempt between saves")
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")
    _save(client, attempt_id, "false")
    loads.clear()
    version = kept_reads(app).version
    before = version.read()
    # Another process changes the quiz (moves it to another course, whose name its
    # statements carry): its trigger's notification (migration 0009) changes the data
    # version, and the next save reads the attempt with its quiz and course again.
    with other_process.begin() as connection:
        connection.execute(update(Quiz).where(Quiz.stable_id == QUIZ).values(course_id="toinen"))
    wait_for(lambda: version.read() not in (None, before), "the quiz change is heard")
    _save(client, attempt_id, "true")
    assert loads == [attempt_id]
    assert _answered(db_session) == ["true", "false", "true"]


def test_a_learner_moved_to_another_library_meanwhile_is_grouped_by_the_new_one(
    client, logged_in, quiz, db_session, create_library, listening, other_process
):
    moved_to = create_library("Pellon kirjasto")
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")
    _save(client, attempt_id, "false")  # kept, with the learner's origin then
    # A raw change that no notification of this process's own tells about at once: the
    # kept origin is held to the database by the write itself.
    with other_process.begin() as connection:
        connection.execute(
            update(Membership).where(Membership.user_id == user.id).values(library_id=moved_to.id)
        )
    assert _save(client, attempt_id, "true").status_code == 302
    last = statements(db_session, "/answered")[-1]
    assert last["result"]["response"] == "true"
    grouping = last["context"]["contextActivities"]["grouping"]
    assert any(moved_to.code in activity["id"] for activity in grouping)


def test_quizzes_notify_their_changes(app, db_session, on_postgresql):
    if not on_postgresql:
        pytest.skip("the change triggers are PostgreSQL's")
    triggers = db_session.execute(
        text(
            "SELECT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name = 'liboppi_notify_change'"
        )
    ).scalars()
    assert "quizzes" in set(triggers)
