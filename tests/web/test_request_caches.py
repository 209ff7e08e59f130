"""Per-process caches on the request path must answer exactly as the work they save would:
the remembered session cookies and the reused CSRF signatures."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask import Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import validate_csrf

from liboppi import csrf_protect
from liboppi.web import page_cache, sessions


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_remembered_cookie_still_expires_with_the_session_lifetime(app, client, logged_in):
    logged_in("learner")
    assert client.get("/courses").status_code == 200  # verified once, now remembered
    interface = app.session_interface
    assert isinstance(interface, sessions.RememberingSessionInterface)
    assert _session_cookie(client) in interface._verified

    app.permanent_session_lifetime = timedelta(seconds=0)
    data, signed_at = interface._verified[_session_cookie(client)]
    interface._verified[_session_cookie(client)] = (data, signed_at - 5)
    response = client.get("/courses")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_tampered_cookie_is_not_taken_for_a_remembered_one(app, client, logged_in):
    logged_in("learner")
    assert client.get("/courses").status_code == 200
    value = _session_cookie(client)
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    client.set_cookie("session", tampered)
    response = client.get("/courses")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert tampered not in app.session_interface._verified


def test_sessions_holding_lists_are_not_remembered(app, client, logged_in):
    logged_in("learner")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Tallennettu")]
    cookie = _session_cookie(client)
    first = client.get("/courses").get_data(as_text=True)
    assert "Tallennettu" in first
    assert cookie not in app.session_interface._verified
    assert "Tallennettu" not in client.get("/courses").get_data(as_text=True)


def test_a_signed_csrf_token_is_reused_within_its_second_only(app, client, logged_in, monkeypatch):
    logged_in("learner")
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    now = [int(time.time())]
    monkeypatch.setattr(time, "time", lambda: float(now[0]))  # itsdangerous reads it too
    signings = []
    sign = page_cache.generate_csrf
    monkeypatch.setattr(page_cache, "generate_csrf", lambda: signings.append(1) or sign())

    def token_in_a_request() -> str:
        with app.test_request_context():
            from flask import session

            session["csrf_token"] = raw
            token = page_cache.csrf_token()
            validate_csrf(token)  # raises unless the token is valid for this session
            return token

    first = token_in_a_request()  # signed, and kept for this second
    assert app.extensions[page_cache._TOKENS][raw] == (now[0], first)
    assert token_in_a_request() == first  # the same second: reused, not signed again
    assert len(signings) == 1
    now[0] += 1
    later = token_in_a_request()  # a later second signs anew, as Flask-WTF would
    assert later != first and len(signings) == 2
    assert app.extensions[page_cache._TOKENS][raw] == (now[0], later)


def _token(client, path: str = "/language") -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(True))
    assert match
    return match.group(1)


def test_a_remembered_csrf_token_is_only_good_for_its_own_session(app, client, logged_in):
    logged_in("learner")
    token = _token(client)
    assert client.post("/language", data={"csrf_token": token, "locale": "sv"}).status_code == 302
    assert token in app.extensions[csrf_protect._EXTENSION]  # verified once, remembered
    assert client.post("/language", data={"csrf_token": token, "locale": "fi"}).status_code == 302

    other = app.test_client()  # another visitor posting the remembered token
    other.get("/login")
    refused = other.post("/language", data={"csrf_token": token, "locale": "sv"})
    assert refused.status_code == 400


def test_a_remembered_token_still_gets_the_https_referrer_check(app, client, logged_in):
    logged_in("learner")
    token = _token(client)
    https = {"base_url": "https://localhost"}
    good = {"Referer": "https://localhost/language"}
    for locale in ("sv", "fi"):  # checked in full, then remembered
        response = client.post(
            "/language", data={"csrf_token": token, "locale": locale}, headers=good, **https
        )
        assert response.status_code == 302
    assert token in app.extensions[csrf_protect._EXTENSION]
    bad = client.post(
        "/language",
        data={"csrf_token": token, "locale": "sv"},
        headers={"Referer": "https://evil.example/"},
        **https,
    )
    assert bad.status_code == 400
    missing = client.post("/language", data={"csrf_token": token, "locale": "sv"}, **https)
    assert missing.status_code == 400


@pytest.mark.parametrize("refresh", [True, False])
@pytest.mark.parametrize("vary", [None, "Accept-Language"])
@pytest.mark.parametrize("permanent", [True, False])
@pytest.mark.parametrize("contents", [{}, {"_user_id": "1.abc"}])
@pytest.mark.parametrize("change", ["none", "read", "write", "clear"])
def test_saving_a_session_sets_the_headers_flasks_own_would(
    app, refresh, vary, permanent, contents, change
):
    app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh

    def saved(interface) -> list[tuple[str, str]]:
        with app.test_request_context("/"):
            # Set ``permanent`` as a loaded cookie holds it: its setter marks a change.
            loaded = {**contents, "_permanent": True} if permanent else contents
            session = SecureCookieSession(loaded)
            assert session.permanent is permanent and not session.modified
            if change == "read":
                session.get("x")
            elif change == "write":
                session["x"] = 1
            elif change == "clear":
                session.clear()
            session.accessed = change != "none"
            response = Response("page", headers={"Vary": vary} if vary else {})
            interface.save_session(app, session, response)
            # A set cookie's value and expiry depend on the second it is made at.
            return sorted(
                (name, re.sub(r"(session=)[^;]*|(Expires=)[^;]*", r"\1\2…", value))
                for name, value in response.headers.items()
            )

    ours = saved(sessions.RememberingSessionInterface())
    assert ours == saved(SecureCookieSessionInterface())
