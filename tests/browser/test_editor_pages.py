"""The web editor in the browser: edit, preview, save, conflicts; axe-core on every page."""

from __future__ import annotations

import pytest

from liboppi.models import Role
from tests.browser.axe import axe_check
from tests.browser.content import COURSE_ID, MODULE_IDS
from tests.browser.keyboard import tab_to
from tests.browser.signin import sign_in

pytestmark = pytest.mark.browser

MODULE = MODULE_IDS[1]
NEW_TEXT = "Uusi kappale selaintestistä: eräpäivä näkyy kuitissa."


def press_enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.fixture
def editor_page(new_page, create_user, course):
    page = new_page()
    sign_in(page, create_user(Role.EDITOR).email)
    return page


def test_editor_edits_previews_and_saves_by_keyboard_and_a_learner_sees_the_new_version(
    editor_page, new_page, create_user
):
    page = editor_page
    tab_to(page, "nav.main-nav a[href='/editor/']")
    press_enter_and_wait(page)
    axe_check(page)
    tab_to(page, f"a[href='/editor/modules/{MODULE}']")
    press_enter_and_wait(page)
    assert page.get_attribute("[data-current-version]", "data-current-version") == "1"
    axe_check(page)

    tab_to(page, "#body")
    page.keyboard.press("Control+End")
    page.keyboard.type(f"\n\n{NEW_TEXT}\n")
    tab_to(page, "#message")
    page.keyboard.type("Lisätty eräpäivästä")
    tab_to(page, "input[name=preview]")
    press_enter_and_wait(page)
    assert NEW_TEXT in page.inner_text("#preview [data-preview]")
    assert NEW_TEXT in page.input_value("#body"), "the typed text must stay in the form"
    axe_check(page)

    tab_to(page, "input[name=save]")
    press_enter_and_wait(page)
    assert page.get_attribute("[data-current-version]", "data-current-version") == "2"
    assert page.locator(".flash-success").count() == 1
    axe_check(page)

    learner = new_page()
    sign_in(learner, create_user().email)
    learner.goto(f"/courses/{COURSE_ID}/{MODULE}")
    assert learner.get_attribute("article.module", "data-version") == "2"
    assert NEW_TEXT in learner.inner_text(".module-content")


def test_revisions_diff_and_old_version_pages_have_no_violations(editor_page):
    page = editor_page
    page.goto(f"/editor/modules/{MODULE}")
    page.fill("#body", page.input_value("#body") + f"\n{NEW_TEXT}\n")
    page.fill("#message", "Toinen versio")
    with page.expect_navigation():
        page.click("input[name=save]")
    page.goto(f"/editor/modules/{MODULE}/revisions")
    assert page.locator("tr[data-version]").count() == 2
    axe_check(page)
    with page.expect_navigation():
        page.click("form.filter-form [type=submit]")
    assert int(page.get_attribute("[data-added]", "data-added")) >= 1
    axe_check(page)
    page.goto(f"/editor/modules/{MODULE}/revisions/1")
    assert page.get_attribute("pre.raw-text", "data-version") == "1"
    axe_check(page)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.get_attribute("[data-current-version]", "data-current-version") == "3"
    axe_check(page)


def test_checker_errors_in_the_editor_are_shown_next_to_the_text_without_violations(
    editor_page,
):
    page = editor_page
    page.goto(f"/editor/modules/{MODULE}")
    broken = page.input_value("#body") + "\n#### Liian syvä otsikko\n\n![](puuttuu.png)\n"
    page.fill("#body", broken)
    with page.expect_navigation():
        page.click("input[name=save]")
    assert page.locator("#content-problems .problem-error").count() >= 1
    assert page.input_value("#body") == broken
    assert page.get_attribute("[data-current-version]", "data-current-version") == "1"
    axe_check(page)


def test_second_editor_gets_a_conflict_page_without_violations(editor_page, new_page, create_user):
    first = editor_page
    second = new_page()
    sign_in(second, create_user(Role.EDITOR).email)
    first.goto(f"/editor/modules/{MODULE}")
    second.goto(f"/editor/modules/{MODULE}")
    first.fill("#body", first.input_value("#body") + "\nEnsimmäisen muokkaajan lisäys.\n")
    with first.expect_navigation():
        first.click("input[name=save]")
    mine = second.input_value("#body") + "\nToisen muokkaajan lisäys.\n"
    second.fill("#body", mine)
    with second.expect_navigation() as response:
        second.click("input[name=save]")
    assert response.value.status == 409
    assert second.locator("[data-conflict=true]").count() == 1
    assert second.input_value("#body") == mine
    axe_check(second)


def test_course_editing_and_new_module_pages_have_no_violations(editor_page):
    page = editor_page
    page.goto(f"/editor/courses/{COURSE_ID}")
    assert page.locator("tr[data-module-id]").count() == len(MODULE_IDS)
    axe_check(page)
    with page.expect_navigation():
        page.click(f"tr[data-module-id={MODULE_IDS[0]}] form[action$='/move'] button")
    order = page.eval_on_selector_all("tr[data-module-id]", "rs => rs.map(r => r.dataset.moduleId)")
    assert order[:2] == [MODULE_IDS[1], MODULE_IDS[0]]
    axe_check(page)

    page.goto(f"/editor/courses/{COURSE_ID}/modules/new")
    axe_check(page)
    page.fill("#module_id", "Ei Kelpaa")
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url.endswith(f"/editor/courses/{COURSE_ID}/modules/new")
    assert page.input_value("#module_id") == "Ei Kelpaa"
    axe_check(page)


def test_learner_cannot_open_the_editor_and_sees_an_accessible_403(page, create_user, course):
    sign_in(page, create_user().email)
    assert page.locator("nav.main-nav a[href='/editor/']").count() == 0
    assert page.goto(f"/editor/modules/{MODULE}").status == 403
    axe_check(page)


def test_preview_refreshes_while_the_editor_types(editor_page):
    """editor-preview.js (progressive enhancement) renders the preview without a click."""
    page = editor_page
    page.goto(f"/editor/modules/{MODULE}")
    page.fill("#body", "## Otsikko\n\nTeksti")
    page.type("#body", " ESIKATSELU")
    page.wait_for_function(
        "() => document.querySelector('section.editor-preview').innerText.includes('ESIKATSELU')",
        timeout=3_000,
    )
