"""The base layout with the keyboard alone: sign in, skip link, main navigation, focus."""

from __future__ import annotations

import pytest

from liboppi.models import Role
from tests.browser.keyboard import focused, label, tab, tab_stops, tab_to
from tests.browser.signin import sign_in
from tests.web_client import PASSWORD

pytestmark = pytest.mark.browser


def test_login_page_tab_order_is_skip_link_language_switcher_then_form(page):
    page.goto("/login")
    stops = [label(stop) for stop in tab_stops(page)]
    assert stops[0] == "a[href=#main]"
    expected = [
        "a[href=#main]",
        "select#language-select",
        "input#email",
        "input#password",
        "input#submit",
    ]
    positions = [stops.index(stop) for stop in expected]
    assert positions == sorted(positions), stops


def test_signing_in_with_the_keyboard_alone_reaches_the_front_page(page, create_user):
    user = create_user()
    page.goto("/login")
    tab_to(page, "#email")
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/")
    assert page.locator("nav.main-nav").is_visible()
    assert user.display_name in page.inner_text("main h1")


def test_pressing_enter_in_the_password_field_signs_in(page, create_user):
    user = create_user()
    page.goto("/login")
    tab_to(page, "#email")
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/")


def test_skip_link_is_first_becomes_visible_and_moves_focus_to_main(page):
    page.goto("/login")
    stop = tab(page)
    assert stop["classes"] == "skip-link"
    assert stop["inViewport"], "the focused skip link is off screen"
    assert stop["outlineWidth"] > 0
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    assert page.url.endswith("#main")
    # The next Tab continues inside main, not back in the header.
    assert tab(page)["id"] == "email"


def test_every_link_in_the_main_navigation_is_reached_by_tab_with_visible_focus(page, create_user):
    # An admin sees every item the base layout's navigation has.
    admin = create_user(Role.ADMIN)
    sign_in(page, admin.email)
    nav_targets = page.eval_on_selector_all(
        "nav.main-nav a[href], nav.main-nav button, nav.main-nav select, nav.main-nav input",
        "els => els.map(el => el.getAttribute('href') || el.closest('form').action)",
    )
    assert len(nav_targets) >= 4, nav_targets
    stops = tab_stops(page)
    reached = []
    for stop in stops:
        assert stop["outlineWidth"] > 0 and stop["outlineStyle"] != "none", (
            f"no visible focus on {label(stop)}"
        )
        assert stop["inViewport"], f"{label(stop)} has the focus but is off screen"
        reached.append(stop["href"] or stop["name"] or stop["id"])
    in_nav = page.eval_on_selector_all(
        "nav.main-nav a[href]", "els => els.map(el => el.getAttribute('href'))"
    )
    missing = [href for href in in_nav if href not in reached]
    assert not missing, f"Tab never reached {missing}; stops: {[label(s) for s in stops]}"
    assert page.locator("nav.main-nav form[action='/logout'] button").count() == 1
    assert any(s["tag"] == "button" and "link-button" in s["classes"] for s in stops)


def test_enter_on_a_navigation_link_opens_its_page(page, create_user):
    admin = create_user(Role.ADMIN)
    sign_in(page, admin.email)
    tab_to(page, "nav.main-nav a[href='/password']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/password")
    assert page.get_attribute("nav.main-nav a[aria-current=page]", "href") == "/password"


def test_signing_out_with_the_keyboard_ends_the_session(page, create_user):
    user = create_user()
    sign_in(page, user.email)
    tab_to(page, "form[action='/logout'] button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/login")
    response = page.goto("/")
    assert page.url.split("?")[0].endswith("/login"), response.url
