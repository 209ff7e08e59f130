"""Fixtures for the outbox store, delivery, privacy and the ``flask xapi`` commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.request import Request, urlopen

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement
from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi.models import OutboxStatement, User
from liboppi.services import outbox
from liboppi.services.delivery import LrsSettings, SqlOutboxStore
from liboppi.xapi import statements as xs
from tests.lrs.client import AUTH, lrs_get
from tests.lrs.fixtures import lrs_endpoint  # noqa: F401
from tests.xapi.test_statements import check_lrs_rules

BASE_URL = "http://liboppi.test"
COURSE = xs.Content("digituki-perusteet", {"fi": "Digituen perusteet"})


@pytest.fixture
def sessions(app):
    """The app's session factory (what the sender and the CLI use)."""
    return app.extensions["liboppi.sessions"]


@pytest.fixture
def store(sessions) -> SqlOutboxStore:
    """The SQL outbox store on the test database."""
    return SqlOutboxStore(sessions)


@pytest.fixture
def record_views(sessions) -> Callable[..., list[str]]:
    """Factory: ``n`` module views of ``user`` recorded (statement enqueued) and committed.

    Returns the statement ids, oldest first.
    """

    def record(user: User, n: int = 1, *, prefix: str = "moduuli") -> list[str]:
        session: Session = sessions()
        try:
            origin, library_id = outbox.origin_for(session, user.id, base_url=BASE_URL)
            ids = []
            for i in range(n):
                module = xs.Content(f"{prefix}-{i}", {"fi": f"Moduuli {i}"})
                statement = xs.module_experienced(origin, COURSE, module)
                outbox.enqueue(session, statement, user_id=user.id, library_id=library_id)
                ids.append(statement.id)
            session.commit()
            return ids
        finally:
            session.close()

    return record


@pytest.fixture
def lrs_settings(lrs_endpoint) -> LrsSettings:  # noqa: F811
    """Settings for the real local LRS, with short timeouts."""
    return LrsSettings(lrs_endpoint, "liboppi", "test", connect_timeout=3, read_timeout=10)


def rows(session: Session) -> list[OutboxStatement]:
    """Every outbox row, fresh from the database, in id order."""
    session.expire_all()
    return list(session.scalars(select(OutboxStatement).order_by(OutboxStatement.id)))


def assert_valid_statement(payload: bytes) -> dict[str, Any]:
    """Check a stored statement with ralph's model and with what real LRSs insist on."""
    data = json.loads(payload)
    BaseXapiStatement.model_validate(data)
    if data["verb"]["id"] != "http://adlnet.gov/expapi/verbs/voided":
        check_lrs_rules(data)
    return data


def lrs_statements(endpoint: str, **params: str) -> list[dict[str, Any]]:
    """Every statement the LRS returns for a query, following ``more`` links."""
    status, body = lrs_get(endpoint, limit="500", **params)
    assert status == 200, body
    found = list(body["statements"])
    while body.get("more"):
        more = body["more"]
        url = endpoint.split("/xAPI/")[0] + more if more.startswith("/") else more
        request = Request(url, headers={"X-Experience-API-Version": "1.0.3", "Authorization": AUTH})
        with urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        found.extend(body["statements"])
    return found


def agent_of(public_id: str) -> str:
    """The ``agent`` query parameter for a user's account."""
    return json.dumps({"objectType": "Agent", "account": {"homePage": BASE_URL, "name": public_id}})


@pytest.fixture
def make_runner(app, app_config):
    """Factory: a CLI runner for an app on the test database with extra ``LIBOPPI_*`` settings."""
    from liboppi import create_app

    apps = []

    def make(**overrides: str):
        other = create_app({**app_config, **overrides})
        apps.append(other)
        return other.test_cli_runner()

    yield make
    for other in apps:
        other.extensions["liboppi.engine"].dispose()
