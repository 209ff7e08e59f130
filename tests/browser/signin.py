"""Signing in and out through the real forms."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.web_client import PASSWORD


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and land on the front page."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation() as navigation:
        page.click("form[action='/login'] [type=submit]")
    status = navigation.value.status if navigation.value else None
    assert page.url.endswith("/") and status == 200, f"sign-in as {email}: {status} {page.url}"


def sign_out(page: Page) -> None:
    """Sign out with the button in the main navigation."""
    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert page.url.endswith("/login"), page.url


def html_lang(page: Page) -> str:
    """The page's ``<html lang>``."""
    return page.evaluate("() => document.documentElement.lang")
