"""Quiz pages through the test client: taking, resuming, submitting, reviewing, authorisation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from liboppi import clock
from liboppi.models import Answer, Attempt, AttemptStatus, Role, User
from liboppi.services import attempts
from tests.quiz_engine.conftest import (
    RECORDER,
    correct_response,
    form_fields,
    quiz_text,
    statements,
    wrong_response,
)
from tests.web_client import csrf_token, login, post_form

QUIZ = "kaikki-tyypit"


def start(client, quiz_id: str = QUIZ) -> int:
    """Press the start (or resume) button; return the attempt id from the redirect."""
    response = post_form(client, f"/quizzes/{quiz_id}/start", {}, page=f"/quizzes/{quiz_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))


def view_of(db_session, user, attempt_id):
    db_session.expire_all()
    return attempts.get_attempt(db_session, user.id, attempt_id, RECORDER)


def test_a_learner_takes_a_quiz_page_by_page_and_sees_the_unanswered_in_the_summary(
    client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text())
    user = logged_in(Role.LEARNER)
    intro = client.get(f"/quizzes/{QUIZ}")
    assert intro.status_code == 200
    assert 'data-attempts-left="unlimited"' in intro.get_data(as_text=True)
    attempt_id = start(client)
    first = client.get(f"/quizzes/attempts/{attempt_id}")
    assert first.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/questions/1")
    view = view_of(db_session, user, attempt_id)
    for state in view.questions:
        url = f"/quizzes/attempts/{attempt_id}/questions/{state.number}"
        page = client.get(url).get_data(as_text=True)
        assert f'data-question-id="{state.id}"' in page
        if state.type == "numeric":
            continue  # left unanswered
        fields = form_fields(state.id, state.type, correct_response(state.type, dict(state.view)))
        response = post_form(client, url, {**fields, "go": "next"})
        assert response.status_code == 302
    summary = client.get(f"/quizzes/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert 'data-unanswered="luku"' in summary
    assert summary.count('data-answered="true"') == len(view.questions) - 1
    submitted = post_form(
        client,
        f"/quizzes/attempts/{attempt_id}/submit",
        {},
        page=f"/quizzes/attempts/{attempt_id}/summary",
    )
    assert submitted.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/result")
    result = client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)
    assert 'data-passed="true"' in result
    assert 'data-score="0.8750"' in result  # 7 of 8 points
    row = db_session.get(Attempt, attempt_id)
    assert (row.status, row.score_raw) == (AttemptStatus.SUBMITTED, 7.0)


def test_all_questions_on_one_page(client, logged_in, install_quiz, db_session):
    install_quiz(quiz_text(layout="all_on_one_page"))
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    assert client.get(f"/quizzes/attempts/{attempt_id}").headers["Location"].endswith("/all")
    page = client.get(f"/quizzes/attempts/{attempt_id}/all").get_data(as_text=True)
    view = view_of(db_session, user, attempt_id)
    assert page.count("<fieldset") == len(view.questions)
    fields: dict = {"shown": []}
    for state in view.questions:
        one = form_fields(state.id, state.type, correct_response(state.type, dict(state.view)))
        fields["shown"].append(one.pop("shown"))
        fields.update(one)
    response = post_form(client, f"/quizzes/attempts/{attempt_id}/all", fields)
    assert response.headers["Location"].endswith("/summary")
    assert len(db_session.scalars(select(Answer)).all()) == len(view.questions)


def test_an_answer_that_cannot_be_read_is_shown_again_with_status_400(
    client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text(types=("numeric",)))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    url = f"/quizzes/attempts/{attempt_id}/questions/1"
    response = post_form(client, url, {"shown": "luku", "q.luku": "paljon", "go": "next"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="paljon"' in page
    assert 'aria-describedby="prompt-luku invalid-luku"' in page


def test_resume_after_signing_out_shows_the_saved_answer(
    client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text(shuffle_questions=True))
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    view = view_of(db_session, user, attempt_id)
    first = view.questions[0]
    answer = wrong_response(first.type, dict(first.view))
    url = f"/quizzes/attempts/{attempt_id}/questions/1"
    post_form(client, url, {**form_fields(first.id, first.type, answer), "go": "next"})
    post_form(client, "/logout", {}, page="/")
    assert client.get(url).status_code == 302  # signed out
    login(client, user.email)
    intro = client.get(f"/quizzes/{QUIZ}").get_data(as_text=True)
    assert 'data-action="resume"' in intro
    assert start(client) == attempt_id
    again = view_of(db_session, user, attempt_id)
    assert [q.id for q in again.questions] == [q.id for q in view.questions]
    assert again.questions[0].is_answered
    assert len(db_session.scalars(select(Attempt)).all()) == 1


def test_a_late_answer_on_a_page_goes_to_the_result(
    client, logged_in, install_quiz, db_session, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse",), time_limit=1))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    url = f"/quizzes/attempts/{attempt_id}/questions/1"
    token = csrf_token(client, url)
    clock.advance(timedelta(minutes=2))
    response = client.post(
        url, data={"csrf_token": token, "shown": "tosi", "q.tosi": "true", "go": "next"}
    )
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/result")
    row = db_session.get(Attempt, attempt_id)
    assert row.is_auto_submitted and row.status is AttemptStatus.SUBMITTED
    assert db_session.scalars(select(Answer)).one().response is None


def test_two_tabs_submitting_grade_once(client, logged_in, install_quiz, db_session):
    install_quiz(quiz_text(types=("truefalse",)))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    summary = f"/quizzes/attempts/{attempt_id}/summary"
    tokens = [csrf_token(client, summary), csrf_token(client, summary)]
    for token in tokens:
        response = client.post(f"/quizzes/attempts/{attempt_id}/submit", data={"csrf_token": token})
        assert response.headers["Location"].endswith("/result")
    assert len(statements(db_session, "failed")) == 1


def test_autosave_saves_and_replies_only_what_was_saved(
    client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text(types=("truefalse", "short")))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    token = csrf_token(client, f"/quizzes/attempts/{attempt_id}/questions/1")
    response = client.post(
        f"/quizzes/attempts/{attempt_id}/autosave",
        data={"csrf_token": token, "shown": "tosi", "q.tosi": "false"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"status", "saved", "invalid", "saved_at"}
    assert (body["status"], body["saved"]) == ("saved", ["tosi"])
    assert db_session.scalars(select(Answer)).one().response == "false"


def test_practice_from_the_result_page(client, logged_in, install_quiz, db_session):
    install_quiz(quiz_text(types=("truefalse", "short")))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    url = f"/quizzes/attempts/{attempt_id}/questions/1"
    post_form(client, url, {"shown": "tosi", "q.tosi": "true", "go": "next"})
    post_form(
        client,
        f"/quizzes/attempts/{attempt_id}/submit",
        {},
        page=f"/quizzes/attempts/{attempt_id}/summary",
    )
    result = client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)
    assert 'data-action="practise"' in result
    started = post_form(
        client,
        f"/quizzes/attempts/{attempt_id}/practice",
        {},
        page=f"/quizzes/attempts/{attempt_id}/result",
    )
    practice_url = started.headers["Location"]
    page = client.get(practice_url).get_data(as_text=True)
    assert 'data-question-id="lyhyt"' in page
    assert 'data-done="0" data-total="1"' in page
    wrong = post_form(
        client, practice_url, {"question": "lyhyt", "shown": "lyhyt", "q.lyhyt": "väärin"}
    )
    after_wrong = client.get(wrong.headers["Location"]).get_data(as_text=True)
    assert 'data-verdict="wrong"' in after_wrong
    right = post_form(
        client, practice_url, {"question": "lyhyt", "shown": "lyhyt", "q.lyhyt": "Lainaajatunnus"}
    )
    done = client.get(right.headers["Location"]).get_data(as_text=True)
    assert 'data-verdict="right"' in done
    assert 'data-finished="true"' in done


def test_the_quiz_list_shows_quizzes_by_course(client, logged_in, install_quiz):
    install_quiz(quiz_text("eka", title="Ensimmäinen testi"), course="kurssi-a")
    install_quiz(quiz_text("toka", title="Toinen testi"), course="kurssi-b")
    logged_in(Role.LEARNER)
    page = client.get("/quizzes/").get_data(as_text=True)
    assert 'data-quiz-id="eka"' in page and 'data-quiz-id="toka"' in page
    assert "Ensimmäinen testi" in page


def test_an_unknown_quiz_is_404(client, logged_in):
    logged_in(Role.LEARNER)
    assert client.get("/quizzes/ei-ole").status_code == 404
    assert client.get("/quizzes/ei-ole/item-analysis").status_code in (403, 404)


def test_signed_out_visitors_are_sent_to_sign_in(client, install_quiz):
    install_quiz(quiz_text(types=("truefalse",)))
    for url in ("/quizzes/", f"/quizzes/{QUIZ}", "/quizzes/attempts/1/questions/1"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_another_learners_attempt_pages_are_404(client, logged_in, install_quiz, db_session):
    install_quiz(quiz_text(types=("truefalse",)))
    owner = logged_in(Role.LEARNER)
    attempt_id = start(client)
    post_form(client, "/logout", {}, page="/")
    logged_in(Role.LEARNER)
    base = f"/quizzes/attempts/{attempt_id}"
    for url in (base, f"{base}/questions/1", f"{base}/summary", f"{base}/result", f"{base}/all"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, f"/quizzes/{QUIZ}")
    for url in (f"{base}/submit", f"{base}/autosave", f"{base}/practice", f"{base}/questions/1"):
        response = client.post(url, data={"csrf_token": token, "shown": "tosi", "q.tosi": "true"})
        assert response.status_code == 404, url
    row = db_session.get(Attempt, attempt_id)
    assert (row.user_id, row.status) == (owner.id, AttemptStatus.IN_PROGRESS)
    assert db_session.scalars(select(Answer)).all() == []


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.LEARNER, 403),
        (Role.EDITOR, 200),
        (Role.LIBRARY_COORDINATOR, 200),
        (Role.REGIONAL_COORDINATOR, 200),
        (Role.ADMIN, 200),
    ],
)
def test_item_analysis_is_for_editors_and_coordinators(
    client, logged_in, install_quiz, role, status
):
    install_quiz(quiz_text(types=("truefalse",)))
    logged_in(role)
    assert client.get(f"/quizzes/{QUIZ}/item-analysis").status_code == status
    csv = client.get(f"/quizzes/{QUIZ}/item-analysis.csv")
    assert csv.status_code == status
    if status == 200:
        assert csv.mimetype == "text/csv"
        assert csv.get_data(as_text=True).startswith("number,question_id,type,")


def test_a_saved_answers_statement_is_in_the_language_of_the_interface(
    client, logged_in, install_quiz, db_session
):
    # A save renders no template; its statement takes the language the pages are shown in.
    install_quiz(quiz_text(types=("truefalse",)))
    user = logged_in(Role.LEARNER)
    attempt_id = start(client)
    url = f"/quizzes/attempts/{attempt_id}/questions/1"

    def answered_in(response: str) -> str:
        post_form(client, url, {"shown": "tosi", "q.tosi": response, "go": "next"})
        db_session.expire_all()
        return statements(db_session, "/answered")[-1]["context"]["language"]

    assert answered_in("true") == "fi"
    db_session.get(User, user.id).locale = "en"  # the user's stored choice
    db_session.commit()
    assert answered_in("false") == "en"
    with client.session_transaction() as session:
        session["locale"] = "sv"  # this session's own choice comes first
    assert answered_in("true") == "sv"
