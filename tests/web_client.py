"""Driving forms through the Flask test client, CSRF tokens included."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on the page at ``url``."""
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({response.status_code})"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict, *, page: str | None = None, **kwargs):
    """POST ``data`` to ``url`` with the CSRF token taken from ``page`` (default: ``url``)."""
    token = csrf_token(client, page or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    """Sign in through the login form."""
    return post_form(client, "/login", {"email": email, "password": password})
