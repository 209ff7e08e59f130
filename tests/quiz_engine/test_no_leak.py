"""No answer leakage: pages and JSON show answers and answer-specific feedback only when allowed.

For every question type the quiz carries secret strings in its option feedback, general
feedback and accepted answers. Every page a learner can open before the rules allow, and
the autosave reply, must contain none of them, nor any markup that marks correctness.
A positive control shows the same secrets once the rules allow, so the check can fail.
"""

from __future__ import annotations

import re

import pytest

from liboppi.models import Role
from tests.quiz_engine.conftest import (
    SECRETS,
    TYPES,
    form_fields,
    page_text_without_chrome,
    quiz_text,
    wrong_response,
)
from tests.quiz_engine.test_pages import QUIZ, start, view_of
from tests.web_client import csrf_token, post_form

# Markup that only review and feedback blocks carry.
CORRECTNESS_MARKERS = (
    "data-verdict",
    "correct-answer",
    "general-feedback",
    "option-feedback",
    "is_correct",
    "correct_target",
    "correct_position",
    "correct_response",
)


def assert_no_secrets(kind: str, text: str, where: str) -> None:
    for secret in SECRETS[kind]:
        assert secret not in text, f"{kind}: {secret!r} leaked on {where}"
    for marker in CORRECTNESS_MARKERS:
        assert marker not in text, f"{kind}: {marker!r} on {where}"


def take_wrongly(client, db_session, user, kind: str) -> tuple[int, dict[str, str]]:
    """Start an attempt, answer its question wrongly; return the pages seen on the way."""
    pages: dict[str, str] = {"intro": client.get(f"/quizzes/{QUIZ}").get_data(as_text=True)}
    attempt_id = start(client)
    url = f"/quizzes/attempts/{attempt_id}/questions/1"
    pages["question"] = client.get(url).get_data(as_text=True)
    state = view_of(db_session, user, attempt_id).questions[0]
    fields = form_fields(state.id, state.type, wrong_response(kind, dict(state.view)))
    autosave = client.post(
        f"/quizzes/attempts/{attempt_id}/autosave",
        data={"csrf_token": csrf_token(client, url), **fields},
    )
    pages["autosave"] = autosave.get_data(as_text=True)
    post_form(client, url, {**fields, "go": "summary"})
    pages["answered question"] = client.get(url).get_data(as_text=True)
    pages["summary"] = client.get(f"/quizzes/attempts/{attempt_id}/summary").get_data(as_text=True)
    pages["all"] = client.get(
        f"/quizzes/attempts/{attempt_id}/all", follow_redirects=True
    ).get_data(as_text=True)
    return attempt_id, pages


def submit(client, attempt_id: int) -> str:
    post_form(
        client,
        f"/quizzes/attempts/{attempt_id}/submit",
        {},
        page=f"/quizzes/attempts/{attempt_id}/summary",
    )
    response = client.get(f"/quizzes/attempts/{attempt_id}/result")
    assert response.status_code == 200
    return page_text_without_chrome(response.get_data(as_text=True))


@pytest.mark.parametrize("kind", TYPES)
def test_nothing_leaks_before_submit_nor_after_when_the_rules_say_never(
    kind, client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text(types=(kind,), feedback="never", review="never"))
    user = logged_in(Role.LEARNER)
    attempt_id, pages = take_wrongly(client, db_session, user, kind)
    for where, text in pages.items():
        assert_no_secrets(kind, text, where)
    assert_no_secrets(kind, submit(client, attempt_id), "result")
    intro = client.get(f"/quizzes/{QUIZ}").get_data(as_text=True)
    assert_no_secrets(kind, intro, "intro after submit")


@pytest.mark.parametrize("kind", TYPES)
def test_review_after_pass_shows_nothing_to_a_learner_who_failed(
    kind, client, logged_in, install_quiz, db_session
):
    install_quiz(
        quiz_text(
            types=(kind, "truefalse") if kind != "truefalse" else (kind,),
            feedback="never",
            review="after_pass",
            pass_mark=1.0,
        )
    )
    user = logged_in(Role.LEARNER)
    attempt_id, _pages = take_wrongly(client, db_session, user, kind)
    assert_no_secrets(kind, submit(client, attempt_id), "result of a failed attempt")


@pytest.mark.parametrize("kind", [kind for kind in TYPES if SECRETS[kind]])
def test_the_review_shows_the_answers_once_allowed(
    kind, client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text(types=(kind,), feedback="after_submit", review="after_submit"))
    user = logged_in(Role.LEARNER)
    attempt_id, _pages = take_wrongly(client, db_session, user, kind)
    result = submit(client, attempt_id)
    general = next(secret for secret in SECRETS[kind] if secret.endswith("YLEINEN"))
    assert general in result
    assert "correct-answer" in result
    if kind == "short":
        assert "kirjastokorttiavain" in result
    if kind == "numeric":
        assert "4217.5" in result


@pytest.mark.parametrize("kind", ["single", "multiple", "truefalse"])
def test_immediate_feedback_shows_only_the_chosen_answers_feedback(
    kind, client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text(types=(kind,), feedback="immediately", review="after_pass"))
    user = logged_in(Role.LEARNER)
    attempt_id, pages = take_wrongly(client, db_session, user, kind)
    assert_no_secrets(kind, pages["question"], "question before answering")
    answered = page_text_without_chrome(pages["answered question"])
    assert 'data-verdict="wrong"' in answered
    general = next(secret for secret in SECRETS[kind] if secret.endswith("YLEINEN"))
    assert general not in answered
    assert "correct-answer" not in answered
    if kind == "single":
        assert "SALAISUUS-YKSI-VAARA" in answered
        assert "SALAISUUS-YKSI-OIKEA" not in answered
    if kind == "truefalse":
        assert "SALAISUUS-TOSI-F" in answered
        assert "SALAISUUS-TOSI-T" not in answered


def test_ordering_items_and_matching_targets_are_never_shown_in_the_answer_order(
    client, logged_in, install_quiz, db_session
):
    install_quiz(quiz_text(types=("ordering", "matching"), shuffle_options=False))
    logged_in(Role.LEARNER)
    attempt_id = start(client)
    ordering = client.get(f"/quizzes/attempts/{attempt_id}/questions/1").get_data(as_text=True)
    items = re.findall(r"Vaihe (yksi|kaksi|kolme|neljä)", ordering)
    assert sorted(items) == sorted(["yksi", "kaksi", "kolme", "neljä"])
    assert items != ["yksi", "kaksi", "kolme", "neljä"]
    matching = client.get(f"/quizzes/attempts/{attempt_id}/questions/2").get_data(as_text=True)
    main = page_text_without_chrome(matching)
    first_select = re.search(r"<select.*?</select>", main, re.DOTALL).group(0)
    targets = re.findall(r"Oikea (yksi|kaksi|kolme)", first_select)
    assert sorted(targets) == ["kaksi", "kolme", "yksi"]
    assert targets != ["yksi", "kaksi", "kolme"]
