"""A plain answer save is read without a transaction and written outside the ORM session:
the answer and its statement, or nothing (``attempts.save_unlocked``; on PostgreSQL one
statement in autocommit mode, on SQLite two in one short transaction).
Whatever changes between its read and its write is caught by that statement, and the save is
then made, or refused, under the attempt's lock as before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from liboppi.models import Answer, Attempt, AttemptStatus, Membership, Role
from liboppi.services import attempts
from tests.quiz_engine.conftest import RECORDER, elsewhere, quiz_text, statements
from tests.web_client import csrf_token, post_form

from .test_pages import QUIZ, start


@pytest.fixture
def quiz(install_quiz):
    install_quiz(quiz_text(types=("truefalse",)))


@pytest.fixture
def between_read_and_write(monkeypatch) -> Callable[[Callable[[], None]], None]:
    """Run a change once, after an unlocked save has read and before it writes."""

    def arrange(change: Callable[[], None]) -> None:
        plan = attempts.plan_statements
        done: list[bool] = []

        def planned(*args, **kwargs):
            result = plan(*args, **kwargs)
            if not done:
                done.append(True)
                change()
            return result

        monkeypatch.setattr(attempts, "plan_statements", planned)

    return arrange


def _save(client, attempt_id: int, response: str):
    url = f"/quizzes/attempts/{attempt_id}/questions/1"
    fields = {"shown": "tosi", "q.tosi": response, "go": "next"}
    return post_form(client, url, fields, page=f"/quizzes/{QUIZ}")


def _saved_elsewhere(app, user_id: int, attempt_id: int, response: str) -> None:
    """Save ``response`` under the attempt's lock in another request, as another worker."""
    elsewhere(
        app, lambda s: attempts.save_answers(s, user_id, attempt_id, {"tosi": response}, RECORDER)
    )


def _answer(db_session, attempt_id: int) -> Answer:
    db_session.expire_all()
    return db_session.scalars(select(Answer).where(Answer.attempt_id == attempt_id)).one()


def test_a_plain_save_is_one_statement_with_its_xapi_statement(
    client, logged_in, quiz, db_session, locked_saves
):
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    assert _save(client, attempt_id, "true").status_code == 302  # a first save: an INSERT
    first = _answer(db_session, attempt_id)
    assert (first.response, first.is_final, first.score) == ("true", False, None)
    assert _save(client, attempt_id, "false").status_code == 302  # a changed one: an UPDATE
    answer = _answer(db_session, attempt_id)
    assert (answer.id, answer.response, answer.seconds_spent) == (
        first.id,
        "false",
        first.seconds_spent,
    )
    assert _save(client, attempt_id, "false").status_code == 302  # unchanged: no write
    assert locked_saves == []
    answered = statements(db_session, "/answered")
    assert [s["result"]["response"] for s in answered] == ["true", "false"]
    assert {s["actor"]["account"]["name"] for s in answered} == {user.public_id}


def test_it_stores_what_the_locked_save_stores(
    client, logged_in, quiz, db_session, locked_saves, monkeypatch, frozen_clock
):
    logged_in(Role.LEARNER)
    fields = ("question_id", "response", "canonical", "is_valid", "is_final", "score")
    stored = []
    for unlocked in (True, False):
        if not unlocked:
            monkeypatch.setattr(attempts, "can_save_unlocked", lambda _connection: False)
        attempt_id = start(client)
        for response in ("true", "false"):
            _save(client, attempt_id, response)
        answer = _answer(db_session, attempt_id)
        stored.append([getattr(answer, f) for f in fields])
        post_form(client, f"/quizzes/attempts/{attempt_id}/submit", {}, page=f"/quizzes/{QUIZ}")
    assert stored[0] == stored[1]
    assert len(locked_saves) == 2  # the second attempt's

    def comparable(statement: dict) -> dict:
        context = dict(statement["context"], registration=None)
        return {
            "verb": statement["verb"],
            "object": statement["object"],
            "result": statement["result"],
            "context": context,
        }

    answered = statements(db_session, "/answered")
    assert len(answered) == 4
    assert [comparable(s) for s in answered[:2]] == [comparable(s) for s in answered[2:]]


def test_an_attempt_submitted_after_the_read_keeps_its_answer(
    client, logged_in, quiz, db_session, locked_saves, between_read_and_write, app
):
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")

    between_read_and_write(
        lambda: elsewhere(app, lambda s: attempts.submit_attempt(s, user.id, attempt_id, RECORDER))
    )
    response = _save(client, attempt_id, "false")
    assert response.status_code == 302 and response.headers["Location"].endswith("/result")
    assert _answer(db_session, attempt_id).response == "true"  # as submitted
    assert locked_saves == []  # the locked path found it closed before saving
    assert [s["result"]["response"] for s in statements(db_session, "/answered")] == ["true"]


def test_a_first_save_made_meanwhile_by_another_request_is_overwritten_under_the_lock(
    client, logged_in, quiz, db_session, locked_saves, between_read_and_write, app
):
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)

    between_read_and_write(lambda: _saved_elsewhere(app, user.id, attempt_id, "false"))
    assert _save(client, attempt_id, "true").status_code == 302
    assert _answer(db_session, attempt_id).response == "true"  # this request came last
    assert locked_saves == [attempt_id, attempt_id]  # the other's, then this one's
    assert [s["result"]["response"] for s in statements(db_session, "/answered")] == [
        "false",
        "true",
    ]


def test_a_library_change_after_the_read_writes_nothing_and_the_locked_save_regroups(
    client, logged_in, quiz, db_session, locked_saves, between_read_and_write, create_library
):
    moved_to = create_library("Muonion kirjasto")
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")  # the user's origin is now cached

    def move() -> None:
        db_session.execute(
            update(Membership).where(Membership.user_id == user.id).values(library_id=moved_to.id)
        )
        db_session.commit()

    between_read_and_write(move)
    assert _save(client, attempt_id, "false").status_code == 302
    assert _answer(db_session, attempt_id).response == "false"
    assert locked_saves == [attempt_id]
    last = statements(db_session, "/answered")[-1]
    assert last["result"]["response"] == "false"
    grouping = last["context"]["contextActivities"]["grouping"]
    assert any(moved_to.code in activity["id"] for activity in grouping)


def test_an_expired_attempt_is_left_to_the_locked_save(
    client, logged_in, install_quiz, db_session, locked_saves, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse",), time_limit=1))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    frozen_clock.advance(timedelta(minutes=2))
    response = _save(client, attempt_id, "true")
    assert response.headers["Location"].endswith("/result")
    assert locked_saves == []  # the locked path submitted it, and saved nothing
    assert _answer(db_session, attempt_id).response is None  # unanswered, graded at submit
    db_session.expire_all()
    assert db_session.get(Attempt, attempt_id).status is not AttemptStatus.IN_PROGRESS


def test_the_same_response_saved_meanwhile_by_another_request_is_saved_already(
    client, logged_in, quiz, db_session, locked_saves, between_read_and_write, app
):
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    _save(client, attempt_id, "true")

    between_read_and_write(lambda: _saved_elsewhere(app, user.id, attempt_id, "false"))
    assert _save(client, attempt_id, "false").status_code == 302
    assert _answer(db_session, attempt_id).response == "false"
    # The write found the response there already: it wrote nothing, recorded nothing, and
    # needed no save under the lock to tell.
    assert locked_saves == [attempt_id]  # the other request's
    assert [s["result"]["response"] for s in statements(db_session, "/answered")] == [
        "true",
        "false",
    ]


def _autosave(client, attempt_id: int, fields: dict[str, str]):
    token = csrf_token(client, f"/quizzes/{QUIZ}")
    return client.post(
        f"/quizzes/attempts/{attempt_id}/autosave", data={"csrf_token": token, **fields}
    )


def test_an_autosave_of_a_one_question_page_is_a_plain_save(
    client, logged_in, quiz, db_session, locked_saves
):
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    for response in ("true", "false", "false"):
        reply = _autosave(client, attempt_id, {"shown": "tosi", "q.tosi": response})
        assert reply.status_code == 200
        body = reply.get_json()
        assert (set(body), body["status"], body["saved"]) == (
            {"status", "saved", "invalid", "saved_at"},
            "saved",
            ["tosi"],
        )
    assert locked_saves == []
    assert _answer(db_session, attempt_id).response == "false"
    # The button's post of the answer the script saved already writes nothing.
    assert _save(client, attempt_id, "false").status_code == 302
    answered = statements(db_session, "/answered")
    assert [s["result"]["response"] for s in answered] == ["true", "false"]


def test_an_autosave_of_several_questions_is_saved_under_the_lock(
    client, logged_in, install_quiz, db_session, locked_saves
):
    install_quiz(quiz_text(types=("truefalse", "short"), layout="all_on_one_page"))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    fields = {"shown": ["tosi", "lyhyt"], "q.tosi": "true", "q.lyhyt": "Koha"}
    reply = _autosave(client, attempt_id, fields)
    assert reply.status_code == 200
    assert sorted(reply.get_json()["saved"]) == ["lyhyt", "tosi"]
    assert locked_saves == [attempt_id]
    # One shown question of an attempt on one page is still the page's save, under the lock.
    reply = _autosave(client, attempt_id, {"shown": "tosi", "q.tosi": "false"})
    assert reply.get_json()["saved"] == ["tosi"]
    assert locked_saves == [attempt_id] * 2
