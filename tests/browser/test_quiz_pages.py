"""Taking a quiz in the browser: keyboard only, a closed tab, resuming; axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from liboppi.models import Role
from tests.browser.axe import axe_check
from tests.browser.content import COURSE_ID, MODULE_IDS, ONE_PAGE_QUIZ_ID, QUESTIONS, QUIZ_ID
from tests.browser.keyboard import tab_to
from tests.browser.signin import sign_in
from tests.web_client import PASSWORD

pytestmark = pytest.mark.browser

#: What a learner who knows the answers picks or types, question by question.
RIGHT = {
    "valinta": "Ensimmäinen vaihtoehto",
    "monivalinta": ["Alfa", "Gamma"],
    "tosi": "true",
    "lyhyt": "Kirjastokortti",
    "luku": "14,2",
    "pari": {"Koha": "kirjastojärjestelmä", "Finna": "hakupalvelu"},
    "jarjestys": {"Tunnistus": "1", "Lainaus": "2", "Eräpäivä": "3"},
    "asteikko": "Jonkin verran",
}


def press_enter_and_wait(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def question_id(page: Page) -> str:
    return page.get_attribute("main fieldset.question", "data-question-id")


def _label_of_focused(page: Page) -> str:
    """The label text of the focused control (or its value when it has no label)."""
    return page.evaluate(
        "() => { const el = document.activeElement;"
        " return el.labels && el.labels.length ? el.labels[0].innerText.trim() : el.value; }"
    )


def choose_radio(page: Page, fieldset: str, wanted: str) -> None:
    """Tab into a radio group, then arrow to the option labelled (or valued) ``wanted``."""
    tab_to(page, f"{fieldset} input[type=radio]")
    for _ in range(10):
        value = page.evaluate("() => document.activeElement.value")
        if wanted in (_label_of_focused(page), value):
            page.keyboard.press("Space")
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no radio {wanted!r} in {fieldset}")


def answer_by_keyboard(page: Page, qid: str, answer) -> None:
    """Answer the question on the page with the keyboard alone."""
    fieldset = f"fieldset[data-question-id={qid}]"
    kind = page.get_attribute(fieldset, "data-question-type")
    if kind in ("single", "truefalse", "likert"):
        choose_radio(page, fieldset, answer)
    elif kind == "multiple":
        boxes = page.locator(f"{fieldset} input[type=checkbox]").count()
        tab_to(page, f"{fieldset} input[type=checkbox]")
        for index in range(boxes):
            if _label_of_focused(page) in answer:
                page.keyboard.press("Space")
            if index < boxes - 1:
                page.keyboard.press("Tab")
    elif kind in ("short", "numeric"):
        tab_to(page, f"{fieldset} input[type=text]")
        page.keyboard.type(answer)
    elif kind in ("matching", "ordering"):
        selects = page.locator(f"{fieldset} select").count()
        tab_to(page, f"{fieldset} select")
        for index in range(selects):
            page.keyboard.type(answer[_label_of_focused(page)])
            if index < selects - 1:
                page.keyboard.press("Tab")
    else:
        raise AssertionError(kind)


def save_and_go(page: Page, go: str) -> None:
    tab_to(page, f"main form.quiz-form button[name=go][value={go}].primary")
    press_enter_and_wait(page)


def test_learner_takes_a_quiz_by_keyboard_closes_the_tab_resumes_submits_and_reviews(
    new_page, create_user, course
):
    learner = create_user()
    page = new_page()
    sign_in(page, learner.email)
    page.goto(f"/courses/{COURSE_ID}/{MODULE_IDS[0]}")
    tab_to(page, f"a[data-quiz-id={QUIZ_ID}]")
    press_enter_and_wait(page)
    axe_check(page)
    tab_to(page, "button[data-action=start]")
    press_enter_and_wait(page)
    attempt_url = re.sub(r"/questions/\d+$", "", page.url)
    order = []
    for number, (qid, _kind) in enumerate(QUESTIONS[:3], start=1):
        assert page.url.endswith(f"/questions/{number}")
        order.append(question_id(page))
        answer_by_keyboard(page, qid, RIGHT[qid])
        if number == 1:  # every type's controls: see the all-on-one-page test
            axe_check(page)
        save_and_go(page, "next")

    # Question 4 is typed but not sent: the autosave script keeps it; then the tab is closed.
    order.append(question_id(page))
    answer_by_keyboard(page, "lyhyt", RIGHT["lyhyt"])
    page.wait_for_function("() => document.getElementById('autosave-status').textContent")
    page.close()

    # The next morning, on another computer.
    page = new_page()
    page.goto("/login")
    tab_to(page, "#email")
    page.keyboard.type(learner.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    press_enter_and_wait(page)
    tab_to(page, "nav.main-nav a[href='/quizzes/']")
    press_enter_and_wait(page)
    axe_check(page)
    tab_to(page, f"tr[data-quiz-id={QUIZ_ID}] a")
    press_enter_and_wait(page)
    axe_check(page)
    tab_to(page, "button[data-action=resume]")
    press_enter_and_wait(page)
    assert page.url == f"{attempt_url}/questions/5", "resume at the first unanswered question"
    assert page.get_attribute("nav.question-nav li:nth-child(4)", "data-answered") == "true"

    tab_to(page, "nav.question-nav li:nth-child(4) a")
    press_enter_and_wait(page)
    assert page.input_value("fieldset[data-question-id=lyhyt] input[type=text]") == RIGHT["lyhyt"]
    tab_to(page, "nav.question-nav li:nth-child(5) a")
    press_enter_and_wait(page)

    for number, (qid, _kind) in enumerate(QUESTIONS[4:], start=5):
        order.append(question_id(page))
        answer_by_keyboard(page, qid, RIGHT[qid])
        save_and_go(page, "next" if number < len(QUESTIONS) else "summary")
    assert order == [qid for qid, _ in QUESTIONS], "the question order must survive resuming"

    assert page.url.endswith("/summary")
    assert page.get_attribute("[data-unanswered]", "data-unanswered") == ""
    axe_check(page)
    tab_to(page, "button[data-action=submit]")
    press_enter_and_wait(page)

    assert page.url.endswith("/result")
    result = page.locator("[data-passed]")
    assert result.get_attribute("data-passed") == "true"
    assert result.get_attribute("data-score") == "1.0000"
    verdicts = page.eval_on_selector_all("[data-verdict]", "els => els.map(e => e.dataset.verdict)")
    assert verdicts == ["right"] * (len(QUESTIONS) - 1)  # the self-assessment is not graded
    axe_check(page)

    # Going back to a question of the submitted attempt leads to its result.
    page.goto(f"{attempt_url}/questions/1")
    assert page.url.endswith("/result")


def test_unanswered_summary_failed_result_and_practice_pages_have_no_violations(
    page, create_user, course
):
    sign_in(page, create_user().email)
    page.goto(f"/quizzes/{QUIZ_ID}")
    with page.expect_navigation():
        page.click("button[data-action=start]")
    answer_by_keyboard(page, "valinta", "Toinen vaihtoehto")
    with page.expect_navigation():
        page.click("button[name=go][value=summary]:not(.primary)")
    missing = page.get_attribute("[data-unanswered]", "data-unanswered").split()
    assert set(missing) == {qid for qid, _ in QUESTIONS} - {"valinta"}
    axe_check(page)
    with page.expect_navigation():
        page.click("button[data-action=submit]")
    assert page.get_attribute("[data-passed]", "data-passed") == "false"
    axe_check(page)

    with page.expect_navigation():
        page.click("button[data-action=practise]")
    assert page.url.split("/")[-2] == "practice"
    axe_check(page)
    first = question_id(page)
    if first in ("valinta", "tosi"):
        answer_by_keyboard(page, first, "Kolmas vaihtoehto" if first == "valinta" else "false")
    with page.expect_navigation():
        page.click("main form.quiz-form button[type=submit]")
    assert page.locator(".practice-last").count() == 1
    axe_check(page)

    page.goto(f"/quizzes/{QUIZ_ID}")
    assert page.locator("tr[data-attempt-id]").count() == 1
    axe_check(page)


def test_invalid_numeric_answer_is_announced_without_violations(page, create_user, course):
    sign_in(page, create_user().email)
    page.goto(f"/quizzes/{QUIZ_ID}")
    with page.expect_navigation():
        page.click("button[data-action=start]")
    number = next(i for i, (qid, _) in enumerate(QUESTIONS, start=1) if qid == "luku")
    page.goto(page.url.replace("/questions/1", f"/questions/{number}"))
    answer_by_keyboard(page, "luku", "neljätoista")
    with page.expect_navigation() as response:
        page.click("button[name=go][value=next]")
    assert response.value.status == 400
    assert page.locator(".error-summary").count() == 1
    assert page.locator("#invalid-luku").count() == 1
    axe_check(page)


def test_timed_all_on_one_page_quiz_with_immediate_feedback_has_no_violations(
    page, create_user, course
):
    sign_in(page, create_user().email)
    page.goto(f"/quizzes/{ONE_PAGE_QUIZ_ID}")
    axe_check(page)
    with page.expect_navigation():
        page.click("button[data-action=start]")
    assert page.url.endswith("/all")
    assert page.locator("fieldset.question").count() == len(QUESTIONS)
    assert 0 < int(page.get_attribute("[data-seconds-left]", "data-seconds-left")) <= 30 * 60
    axe_check(page)
    for qid in ("valinta", "lyhyt", "pari"):
        answer_by_keyboard(page, qid, RIGHT[qid])
    with page.expect_navigation():
        page.click("button[name=go][value=stay]")
    assert page.locator("[data-feedback-for=valinta] [data-verdict=right]").count() == 1
    assert page.locator("fieldset[data-question-id=valinta] input:disabled").count() == 3
    axe_check(page)


def test_item_analysis_pages_have_no_violations(new_page, create_user, course):
    learner = new_page()
    sign_in(learner, create_user().email)
    learner.goto(f"/quizzes/{QUIZ_ID}")
    with learner.expect_navigation():
        learner.click("button[data-action=start]")
    answer_by_keyboard(learner, "valinta", RIGHT["valinta"])
    with learner.expect_navigation():
        learner.click("button[name=go][value=summary]:not(.primary)")
    with learner.expect_navigation():
        learner.click("button[data-action=submit]")

    editor = new_page()
    sign_in(editor, create_user(Role.EDITOR).email)
    editor.goto(f"/quizzes/{QUIZ_ID}/item-analysis")
    assert editor.locator("[data-suppressed=true]").count() == 1
    axe_check(editor)

    admin = new_page()
    sign_in(admin, create_user(Role.ADMIN).email)
    admin.goto(f"/quizzes/{QUIZ_ID}/item-analysis")
    assert admin.get_attribute("dl[data-attempts]", "data-attempts") == "1"
    assert admin.locator("tr[data-question-id]").count() == len(QUESTIONS)
    axe_check(admin)
