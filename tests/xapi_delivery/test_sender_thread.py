"""The in-process sender thread: started by the first served request, never by CLI commands."""

from __future__ import annotations

import time

import pytest

from liboppi import create_app
from liboppi.config import ConfigError
from liboppi.models import OutboxStatus
from liboppi.web.xapi_sender import EXTENSION
from tests.xapi_delivery.conftest import agent_of, lrs_statements, rows


@pytest.fixture
def served_app(app, app_config):
    """Factory: another app on the test database, with extra settings; stopped afterwards."""
    made = []

    def make(**overrides: str):
        other = create_app({**app_config, **overrides})
        made.append(other)
        return other

    yield make
    for other in made:
        sender = other.extensions.get(EXTENSION)
        if sender is not None:
            sender.stop(timeout=30)
            assert not sender.is_running
        other.extensions["liboppi.engine"].dispose()


@pytest.mark.lrs
def test_the_first_request_starts_the_thread_and_it_delivers(
    served_app, lrs_endpoint, record_views, create_user, db_session
):
    app = served_app(LIBOPPI_XAPI_SENDER="thread", LIBOPPI_LRS_ENDPOINT=lrs_endpoint)
    sender = app.extensions[EXTENSION]
    learner = create_user("learner")
    ids = record_views(learner, 3)

    assert app.test_cli_runner().invoke(args=["xapi", "status"]).exit_code == 0
    assert not sender.is_running  # building the app or running a command starts nothing
    assert app.test_client().get("/saavutettavuus").status_code == 200
    assert sender.is_running

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if {r.status for r in rows(db_session)} == {OutboxStatus.DELIVERED}:
            break
        time.sleep(0.1)
    assert {r.status for r in rows(db_session)} == {OutboxStatus.DELIVERED}
    at_lrs = lrs_statements(lrs_endpoint, agent=agent_of(learner.public_id))
    assert sorted(s["id"] for s in at_lrs) == sorted(ids)
    app.test_client().get("/saavutettavuus")
    assert sender.start() is False  # one thread per app


def test_no_thread_when_off_or_without_an_endpoint(served_app):
    off = served_app(LIBOPPI_XAPI_SENDER="off", LIBOPPI_LRS_ENDPOINT="http://127.0.0.1:9/xAPI/")
    no_endpoint = served_app(LIBOPPI_XAPI_SENDER="thread")
    for app in (off, no_endpoint):
        app.test_client().get("/saavutettavuus")
        assert EXTENSION not in app.extensions


def test_an_unknown_sender_mode_refuses_to_start(app_config):
    with pytest.raises(ConfigError, match="LIBOPPI_XAPI_SENDER"):
        create_app({**app_config, "LIBOPPI_XAPI_SENDER": "process"})


@pytest.mark.parametrize("sender", ["thread", "off"])
def test_an_endpoint_that_is_not_an_http_url_refuses_to_start(app_config, sender):
    with pytest.raises(ConfigError, match="LIBOPPI_LRS_ENDPOINT"):
        create_app({**app_config, "LIBOPPI_XAPI_SENDER": sender, "LIBOPPI_LRS_ENDPOINT": "lrs"})
