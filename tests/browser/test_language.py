"""Switching the interface language with the switcher in the header."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from liboppi.models import User
from tests.browser.keyboard import tab_to
from tests.browser.signin import html_lang, sign_in, sign_out

pytestmark = pytest.mark.browser


def switch_language(page: Page, locale: str) -> None:
    """Choose ``locale`` in the switcher with the keyboard and send it."""
    tab_to(page, "#language-select")
    page.select_option("#language-select", locale)
    tab_to(page, ".language-switcher button")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_switching_to_swedish_and_back_to_finnish_changes_html_lang(page, create_user):
    user = create_user()
    sign_in(page, user.email)
    assert html_lang(page) == "fi"
    page.goto("/password")
    switch_language(page, "sv")
    assert page.url.endswith("/password"), "the switcher should return to the same page"
    assert html_lang(page) == "sv"
    assert page.input_value("#language-select") == "sv"
    page.goto("/")
    assert html_lang(page) == "sv"
    switch_language(page, "fi")
    assert page.url.endswith("/")
    assert html_lang(page) == "fi"
    page.goto("/saavutettavuus")
    assert html_lang(page) == "fi"


def test_language_choice_is_stored_on_the_user_and_kept_after_signing_in_again(
    new_page, create_user, db_session
):
    user = create_user()
    page = new_page()
    sign_in(page, user.email)
    switch_language(page, "sv")
    db_session.expire_all()
    assert db_session.get(User, user.id).locale == "sv"
    sign_out(page)
    assert html_lang(page) == "sv"

    # Another computer: no session yet, so the login page is Finnish until the user signs in.
    elsewhere = new_page()
    elsewhere.goto("/login")
    assert html_lang(elsewhere) == "fi"
    sign_in(elsewhere, user.email)
    assert html_lang(elsewhere) == "sv"
    switch_language(elsewhere, "fi")
    assert html_lang(elsewhere) == "fi"
    db_session.expire_all()
    assert db_session.get(User, user.id).locale == "fi"


def test_anonymous_visitor_can_switch_the_login_page_to_swedish(page):
    page.goto("/login")
    switch_language(page, "sv")
    assert page.url.endswith("/login")
    assert html_lang(page) == "sv"
    assert page.get_attribute("#language-select option[value=sv]", "lang") == "sv"


def test_swedish_page_text_differs_from_the_finnish(page):
    page.goto("/login")
    finnish = page.inner_text("main h1")
    switch_language(page, "sv")
    assert page.inner_text("main h1") != finnish
