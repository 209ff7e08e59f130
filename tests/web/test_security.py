"""CSRF, rate limiting, security headers and safe redirects."""

from __future__ import annotations

import pytest

from liboppi.web.security import CSP, SecurityHeaders
from tests.web_client import PASSWORD, csrf_token, login, post_form


def test_post_without_csrf_token_is_rejected(client, create_user):
    user = create_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_without_csrf_token_is_rejected(client, create_user):
    user = create_user()
    login(client, user.email)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


@pytest.fixture
def strict_limit(app_config):
    app_config["LIBOPPI_LOGIN_RATE_LIMIT"] = "3 per minute"


def test_repeated_failed_logins_are_rate_limited(strict_limit, client, create_user):
    user = create_user()
    for _ in range(3):
        assert login(client, user.email, "wrong wrong").status_code == 400
    blocked = login(client, user.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Liian monta yritystä" in blocked.get_data(as_text=True)


def test_successful_logins_do_not_use_up_the_limit(strict_limit, app, create_user):
    user = create_user()
    for _ in range(5):
        client = app.test_client()
        assert login(client, user.email).status_code == 302


def test_a_limited_request_gets_its_limit_headers_and_others_none(
    strict_limit, client, create_user
):
    # The limiter's after-request hook runs only for requests that met a limit (web/limits.py).
    user = create_user()
    failed = login(client, user.email, "wrong wrong")
    assert failed.headers["X-RateLimit-Limit"] == "3"
    assert failed.headers["X-RateLimit-Remaining"] == "2"
    assert "X-RateLimit-Limit" not in client.get("/login").headers  # GET is not limited
    assert login(client, user.email).status_code == 302
    assert "X-RateLimit-Limit" not in client.get("/").headers


def test_rate_limit_can_use_redis(app_config, create_user):
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    from liboppi import create_app

    app_config["LIBOPPI_RATELIMIT_STORAGE_URL"] = "redis://127.0.0.1:6379/15"
    app_config["LIBOPPI_LOGIN_RATE_LIMIT"] = "2 per minute"
    redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
    app = create_app(app_config)
    client = app.test_client()
    user = create_user()
    assert login(client, user.email, "wrong wrong").status_code == 400
    assert login(client, user.email, "wrong wrong").status_code == 400
    assert login(client, user.email, PASSWORD).status_code == 429
    assert redis.Redis(host="127.0.0.1", port=6379, db=15).dbsize() > 0
    app.extensions["liboppi.engine"].dispose()


@pytest.mark.parametrize("path", ["/login", "/saavutettavuus", "/no-such-page", "/static/no.css"])
def test_security_headers_are_set(client, path):
    response = client.get(path)
    assert len(response.headers.getlist("X-Frame-Options")) == 1
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite(client, create_user):
    user = create_user()
    response = login(client, user.email)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookie_is_secure(app_config):
    from liboppi import create_app

    app_config["LIBOPPI_ENV"] = "production"
    app = create_app(app_config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["liboppi.engine"].dispose()


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
    ],
)
def test_unsafe_next_is_ignored(client, create_user, target):
    user = create_user()
    response = post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_safe_next_is_followed(client, create_user):
    user = create_user()
    response = post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": "/saavutettavuus"}
    )
    assert response.headers["Location"] == "/saavutettavuus"


def test_inline_scripts_and_styles_are_absent(client):
    page = client.get("/login").get_data(as_text=True)
    assert "<script>" not in page
    assert "style=" not in page


def test_csrf_token_is_in_every_post_form(client):
    assert csrf_token(client, "/login")


def test_a_response_keeps_a_security_header_it_sets_itself():
    def wsgi_app(environ, start_response):
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("x-frame-options", "SAMEORIGIN")]
        )
        return [b"ok"]

    sent = []
    body = SecurityHeaders(wsgi_app)(
        {}, lambda status, headers, exc_info=None: sent.append(headers)
    )
    assert list(body) == [b"ok"]
    headers = dict(sent[0])
    assert headers["x-frame-options"] == "SAMEORIGIN" and "X-Frame-Options" not in headers
    assert headers["Content-Security-Policy"] == CSP
