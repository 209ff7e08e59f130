"""Browser fixtures: the app on a live local server, one Debian Chromium per session.

Playwright cannot download browsers here, so Chromium is Debian's ``/usr/bin/chromium``
(``make test`` installs it). Each test gets a fresh browser context (its own cookies) and a
fresh, emptied database through the ``app`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from sqlalchemy import text
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from liboppi.services import accounts, demo, orgs
from tests.browser.content import import_repository, write_repository

CHROMIUM = os.environ.get("LIBOPPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Fail fast: every page here is served from localhost in milliseconds.
TIMEOUT_MS = 5_000


@pytest.fixture
def repository(tmp_path) -> Path:
    """The small course repository of tests/browser/content.py, written to a fresh folder."""
    return write_repository(tmp_path / "repo")


@pytest.fixture
def app_config(app_config, repository) -> dict:
    """The app reads courses and quizzes from the test repository."""
    return {
        **app_config,
        "LIBOPPI_CONTENT_ROOT": str(repository / "courses"),
        "LIBOPPI_QUIZ_ROOT": str(repository / "quizzes"),
    }


@pytest.fixture
def course(db_session, repository) -> None:
    """The test course and its quizzes, imported."""
    import_repository(db_session, repository)


@pytest.fixture(autouse=True)
def empty_sqlite_search_index(app) -> Iterator[None]:
    """SQLite's FTS5 index is not a model table, so the suite's cleanup does not empty it."""
    yield
    engine = app.extensions["liboppi.engine"]
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS module_search"))


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch) -> None:
    """Argon2 with its smallest cost: each sign-in would otherwise spend ~0.3 s hashing.

    The browser tests are about pages, not about the hash; tests/web covers real hashing.
    """
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # one line per request is only noise
        pass


@dataclass
class LiveServer:
    """The app served over real HTTP on a free 127.0.0.1 port."""

    app: Flask
    server: BaseWSGIServer
    url: str
    errors: list[str] = field(default_factory=list)

    def log(self, kind: str, message: str, *args) -> None:
        """Keep the tracebacks werkzeug logs for requests that raised."""
        if kind == "error":
            self.errors.append(message % args if args else message)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """Serve ``app`` (and so the test database) with werkzeug in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    live = LiveServer(app, server, f"http://127.0.0.1:{server.server_port}")
    server.log = live.log
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    assert not live.errors, "the app raised while serving:\n" + "\n".join(live.errors)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole test session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"browser tests need {CHROMIUM}: run 'make chromium' as root or "
            "'sudo apt-get install chromium' (or deselect them with -m 'not browser')"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What went wrong in the browser while a test ran: script errors, CSP blocks, 5xx."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        # Error pages (403/404) are expected to log "Failed to load resource"; anything else
        # logged as an error (CSP violations above all) is a bug.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.messages.append(f"console: {message.text}")


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable[[], Page]]:
    """Factory: a page in a fresh browser context (a person on another computer)."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()

    def make() -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", problems.console)
        page.on("pageerror", lambda error: problems.messages.append(f"page error: {error}"))
        page.on(
            "response",
            lambda response: (
                response.status >= 500
                and problems.messages.append(f"HTTP {response.status}: {response.url}")
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.messages, "problems in the browser:\n" + "\n".join(problems.messages)


@pytest.fixture
def page(new_page) -> Page:
    """A page in a fresh browser context."""
    return new_page()


@pytest.fixture
def demo_logins(db_session) -> list[demo.DemoLogin]:
    """The Lapland organisations and the demo users of ``flask demo seed``."""
    orgs.load_lapland(db_session)
    logins = demo.seed(db_session)
    db_session.commit()
    return logins
