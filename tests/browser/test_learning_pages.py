"""Catalogue, course, module and search pages: axe-core and the keyboard alone."""

from __future__ import annotations

import pytest

from tests.browser.axe import axe_check
from tests.browser.content import COURSE_ID, MODULE_IDS, QUIZ_ID
from tests.browser.keyboard import focused, tab_to
from tests.browser.signin import sign_in

pytestmark = pytest.mark.browser


def press_enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_catalogue_course_and_module_pages_have_no_violations(page, create_user, course):
    sign_in(page, create_user().email)
    page.goto("/courses")
    assert page.locator(f"[data-course-id={COURSE_ID}]").count() == 1
    axe_check(page)
    page.goto("/courses?tag=koha&audience=learner")
    assert page.locator(f"[data-course-id={COURSE_ID}]").count() == 1
    axe_check(page)
    page.goto("/courses?tag=no-such-tag")
    assert page.locator("[data-course-id]").count() == 0
    axe_check(page)

    page.goto(f"/courses/{COURSE_ID}")
    assert page.locator("[data-module-id]").count() == len(MODULE_IDS)
    axe_check(page)
    for module_id in MODULE_IDS:
        page.goto(f"/courses/{COURSE_ID}/{module_id}")
        assert page.get_attribute("article.module", "data-module-id") == module_id
        axe_check(page)


def test_long_module_has_contents_table_and_callouts_without_violations(page, create_user, course):
    sign_in(page, create_user().email)
    page.goto(f"/courses/{COURSE_ID}/{MODULE_IDS[0]}")
    assert page.locator("nav.toc a").count() >= 3
    assert page.locator(".module-content table").count() == 1
    assert page.locator(".callout").count() == 2
    assert page.get_attribute(f"a[data-quiz-id={QUIZ_ID}]", "href") == f"/quizzes/{QUIZ_ID}"
    axe_check(page)
    # The image module: the picture is served and has its text alternative.
    page.goto(f"/courses/{COURSE_ID}/{MODULE_IDS[2]}")
    image = page.locator(".module-content img")
    assert image.get_attribute("alt")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1


def test_course_page_after_progress_and_completed_module_have_no_violations(
    page, create_user, course
):
    sign_in(page, create_user().email)
    page.goto(f"/courses/{COURSE_ID}/{MODULE_IDS[1]}")
    with page.expect_navigation():
        page.click("button[data-action=complete]")
    assert page.get_attribute("article.module", "data-status") == "completed"
    assert page.locator("[data-completed-at]").count() == 1
    axe_check(page)
    page.goto(f"/courses/{COURSE_ID}")
    assert page.get_attribute(f"li[data-module-id={MODULE_IDS[1]}]", "data-status") == "completed"
    axe_check(page)
    page.goto("/courses")
    card = page.locator(f"[data-course-id={COURSE_ID}]")
    assert card.get_attribute("data-completed-modules") == "1"
    axe_check(page)


def test_learner_reads_a_course_and_completes_a_module_with_the_keyboard_alone(
    page, create_user, course
):
    sign_in(page, create_user().email)
    tab_to(page, "nav.main-nav a[href='/courses']")
    press_enter_and_wait(page)
    assert page.url.endswith("/courses")
    tab_to(page, f"[data-course-id={COURSE_ID}] h2 a")
    press_enter_and_wait(page)
    assert page.url.endswith(f"/courses/{COURSE_ID}")
    tab_to(page, "main a.button.primary")
    press_enter_and_wait(page)
    assert page.get_attribute("article.module", "data-module-id") == MODULE_IDS[0]

    stop = tab_to(page, "button[data-action=complete]")
    assert stop["outlineWidth"] > 0
    press_enter_and_wait(page)
    assert page.get_attribute("article.module", "data-status") == "completed"

    tab_to(page, "nav.pager a[rel=next]")
    press_enter_and_wait(page)
    assert page.get_attribute("article.module", "data-module-id") == MODULE_IDS[1]
    tab_to(page, "nav.pager a[rel=prev]")
    assert focused(page)["href"].endswith(MODULE_IDS[0])


def test_contents_links_move_focus_to_their_heading(page, create_user, course):
    sign_in(page, create_user().email)
    page.goto(f"/courses/{COURSE_ID}/{MODULE_IDS[0]}")
    link = tab_to(page, "nav.toc li:nth-child(2) a")
    page.keyboard.press("Enter")
    target = link["href"].lstrip("#")
    assert page.evaluate("() => location.hash.slice(1)") == target
    assert page.locator(f"[id='{target}']").is_visible()


def test_search_with_an_inflected_word_by_keyboard_finds_the_module(page, create_user, course):
    sign_in(page, create_user().email)
    tab_to(page, "nav.main-nav a[href='/search']")
    press_enter_and_wait(page)
    axe_check(page)
    tab_to(page, "#search-q")
    page.keyboard.type("kirjastojärjestelmän")
    press_enter_and_wait(page)
    hits = page.eval_on_selector_all("[data-module-id]", "els => els.map(e => e.dataset.moduleId)")
    assert MODULE_IDS[0] in hits
    assert page.locator(".snippet mark").count() >= 1
    axe_check(page)
    tab_to(page, f"li[data-module-id={MODULE_IDS[0]}] h2 a")
    press_enter_and_wait(page)
    assert page.get_attribute("article.module", "data-module-id") == MODULE_IDS[0]


def test_search_without_hits_has_no_violations(page, create_user, course):
    sign_in(page, create_user().email)
    page.goto("/search?q=olematonsanaxyz")
    assert page.get_attribute("[data-hit-count]", "data-hit-count") == "0"
    axe_check(page)


def test_unknown_course_and_module_give_accessible_404_pages(page, create_user, course):
    sign_in(page, create_user().email)
    assert page.goto("/courses/no-such-course").status == 404
    axe_check(page)
    assert page.goto(f"/courses/{COURSE_ID}/no-such-module").status == 404
    axe_check(page)


def test_learning_pages_in_swedish_have_no_violations(page, create_user, course):
    sign_in(page, create_user().email)
    page.select_option("#language-select", "sv")
    with page.expect_navigation():
        page.click(".language-switcher button")
    page.goto("/courses")
    assert page.evaluate("() => document.documentElement.lang") == "sv"
    axe_check(page)
    page.goto(f"/courses/{COURSE_ID}/{MODULE_IDS[0]}")
    # Finnish content on a Swedish page is marked as Finnish.
    assert page.get_attribute("article.module", "lang") == "fi"
    axe_check(page)
