"""``flask xapi status|flush|worker|export|retry-parked`` and ``flask users erase|export``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liboppi import clock
from liboppi.models import OutboxStatus, User
from liboppi.services import delivery
from tests.xapi.fake_lrs import FakeLrs, Reply
from tests.xapi_delivery.conftest import agent_of, lrs_statements, rows

PROJECT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def learner(create_user):
    return create_user("learner", email="oppija@kirjasto.example")


def lines(output: str) -> dict[str, str]:
    """``Label: value`` lines of ``flask xapi status`` as a dict."""
    return {
        label.strip(): value.strip()
        for label, _, value in (line.partition(":") for line in output.splitlines())
    }


# -- status -----------------------------------------------------------------------------------


def test_status_without_an_endpoint_says_statements_wait(runner, record_views, learner):
    record_views(learner, 2)
    result = runner.invoke(args=["xapi", "status"])
    assert result.exit_code == 0, result.output
    status = lines(result.output)
    assert status["LRS endpoint"].startswith("not configured")
    assert status["Pending"] == "2 (2 due now)"
    assert (status["Delivered"], status["Parked"], status["Auth failure"]) == ("0", "0", "none")


def test_status_reports_the_oldest_pending_age_and_the_last_error(
    runner, store, record_views, learner
):
    clock.set_now(T0)
    record_views(learner, 2)
    items = store.claim_batch(10, T0)
    store.mark_retry([items[0].id], T0, "HTTP 503: maintenance")
    store.mark_parked(items[1].id, "bad verb")
    clock.set_now(T0 + timedelta(hours=2, minutes=5))
    result = runner.invoke(args=["xapi", "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["pending"], data["parked"], data["delivered"]) == (1, 1, 0)
    assert data["oldest_pending_age_seconds"] == 2 * 3600 + 300
    assert data["last_error"] == "parked a statement: bad verb"
    text = lines(runner.invoke(args=["xapi", "status"]).output)
    assert text["Oldest pending"] == "2 h 5 min"


# -- flush ------------------------------------------------------------------------------------


def test_flush_without_an_endpoint_is_one_line_and_exit_code_2(runner, record_views, learner):
    record_views(learner, 3)
    result = runner.invoke(args=["xapi", "flush"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: no LRS endpoint is configured (LIBOPPI_LRS_ENDPOINT); "
        "3 statements wait safely in the outbox"
    ]


@pytest.mark.lrs
def test_flush_delivers_to_the_lrs_and_limit_caps_it(
    make_runner, lrs_endpoint, record_views, learner, db_session
):
    runner = make_runner(LIBOPPI_LRS_ENDPOINT=lrs_endpoint, LIBOPPI_XAPI_BATCH_SIZE="2")
    ids = record_views(learner, 5)

    limited = runner.invoke(args=["xapi", "flush", "--limit", "3"])
    assert limited.exit_code == 0, limited.output
    assert "Delivered 3, parked 0, to retry later 0." in limited.output
    assert [r.status for r in rows(db_session)].count(OutboxStatus.DELIVERED) == 3

    rest = runner.invoke(args=["xapi", "flush"])
    assert rest.exit_code == 0 and "Delivered 2," in rest.output
    at_lrs = lrs_statements(lrs_endpoint, agent=agent_of(learner.public_id))
    assert sorted(s["id"] for s in at_lrs) == sorted(ids)


def test_flush_after_a_401_exits_1_and_status_reports_the_auth_failure(
    make_runner, record_views, learner, db_session
):
    record_views(learner, 2)
    with FakeLrs([Reply(401, b"who are you")]) as fake:
        runner = make_runner(LIBOPPI_LRS_ENDPOINT=fake.endpoint)
        result = runner.invoke(args=["xapi", "flush"])
    assert result.exit_code == 1
    assert "HTTP 401" in result.output and "Traceback" not in result.output
    status = runner.invoke(args=["xapi", "status"])
    assert status.exit_code == 0
    assert "HTTP 401" in lines(status.output)["Auth failure"]
    assert lines(status.output)["Pending"].startswith("2 ")


def test_flush_while_the_lrs_is_down_exits_1_and_keeps_the_statements(
    make_runner, record_views, learner, db_session
):
    from tests.lrs.server import free_port

    record_views(learner, 2)
    runner = make_runner(LIBOPPI_LRS_ENDPOINT=f"http://127.0.0.1:{free_port()}/xAPI/")
    result = runner.invoke(args=["xapi", "flush"])
    assert result.exit_code == 1
    assert "to retry later 2" in result.output
    assert {(r.status, r.attempts) for r in rows(db_session)} == {(OutboxStatus.PENDING, 1)}


# -- export and retry-parked ---------------------------------------------------------------------


def test_export_writes_the_stored_bytes_one_statement_per_line(
    runner, store, record_views, learner, db_session, tmp_path
):
    record_views(learner, 3)
    items = store.claim_batch(1, clock.now())
    store.mark_parked(items[0].id, "bad")
    stored = [r.payload for r in rows(db_session)]

    everything = runner.invoke(args=["xapi", "export", "--format", "jsonl"])
    assert everything.exit_code == 0
    assert everything.stdout_bytes == b"".join(p + b"\n" for p in stored)

    parked = runner.invoke(args=["xapi", "export", "--status", "parked"])
    assert parked.stdout_bytes == stored[0] + b"\n"

    target = tmp_path / "pending.jsonl"
    to_file = runner.invoke(args=["xapi", "export", "--status", "pending", "-o", str(target)])
    assert to_file.exit_code == 0 and "Exported 2 statements" in to_file.output
    assert target.read_bytes() == stored[1] + b"\n" + stored[2] + b"\n"


def test_export_refuses_an_unknown_status_or_format(runner):
    assert runner.invoke(args=["xapi", "export", "--status", "lost"]).exit_code == 2
    assert runner.invoke(args=["xapi", "export", "--format", "csv"]).exit_code == 2


def test_retry_parked_puts_parked_statements_back_in_line(
    runner, store, record_views, learner, db_session
):
    ids = record_views(learner, 3)
    for item in store.claim_batch(2, clock.now()):
        store.mark_parked(item.id, "bad")
    one = runner.invoke(args=["xapi", "retry-parked", "--statement-id", ids[0]])
    assert one.exit_code == 0 and one.output.startswith("1 parked")
    rest = runner.invoke(args=["xapi", "retry-parked"])
    assert rest.output.startswith("1 parked")
    assert {(r.status, r.attempts) for r in rows(db_session)} == {(OutboxStatus.PENDING, 0)}


# -- worker ------------------------------------------------------------------------------------


def _worker(database_url: str, endpoint: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "LIBOPPI_ENV": "test",
        "LIBOPPI_SECRET_KEY": "test-secret-key",
        "LIBOPPI_DATABASE_URL": database_url,
        "LIBOPPI_LRS_ENDPOINT": endpoint,
        "LIBOPPI_BASE_URL": "http://liboppi.test",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "xapi", "worker", "--idle", "0.2"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.lrs
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_worker_delivers_and_stops_cleanly_on_a_signal(
    database_url, lrs_endpoint, record_views, learner, db_session, signum
):
    ids = record_views(learner, 3)
    worker = _worker(database_url, lrs_endpoint)
    try:
        delivered = _wait_until(
            lambda: {r.status for r in rows(db_session)} == {OutboxStatus.DELIVERED}
        )
        more = record_views(learner, 2)  # picked up by the running worker too
        delivered_more = _wait_until(
            lambda: {r.status for r in rows(db_session)} == {OutboxStatus.DELIVERED}
        )
        worker.send_signal(signum)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert delivered and delivered_more, err
    assert worker.returncode == 0, err
    assert "Delivered 5, parked 0" in out
    at_lrs = lrs_statements(lrs_endpoint, agent=agent_of(learner.public_id))
    assert sorted(s["id"] for s in at_lrs) == sorted(ids + more)


def test_worker_exits_1_when_the_lrs_refuses_the_credentials(
    database_url, record_views, learner, db_session
):
    record_views(learner, 1)
    with FakeLrs([Reply(403, b"forbidden")]) as fake:
        worker = _worker(database_url, fake.endpoint)
        try:
            out, err = worker.communicate(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert worker.returncode == 1
    assert "HTTP 403" in err
    db_session.expire_all()
    assert delivery.get_status(db_session, fake.endpoint).auth_failure is not None


# -- users erase / export -------------------------------------------------------------------------


def test_users_export_prints_the_persons_records_as_json(runner, record_views, learner, tmp_path):
    ids = record_views(learner, 2)
    result = runner.invoke(args=["users", "export", "Oppija@Kirjasto.example"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["user"]["email"] == "oppija@kirjasto.example"
    assert [s["statement"]["id"] for s in document["statements"]] == ids
    target = tmp_path / "export.json"
    to_file = runner.invoke(args=["users", "export", "oppija@kirjasto.example", "-o", str(target)])
    assert to_file.exit_code == 0
    assert json.loads(target.read_text("utf-8"))["user"]["public_id"] == learner.public_id


def test_users_erase_asks_first_and_anonymises(runner, record_views, learner, db_session):
    record_views(learner, 2)
    declined = runner.invoke(args=["users", "erase", "oppija@kirjasto.example"], input="n\n")
    assert declined.exit_code == 1
    db_session.expire_all()
    assert db_session.get(User, learner.id).email == "oppija@kirjasto.example"

    result = runner.invoke(args=["users", "erase", "oppija@kirjasto.example"], input="y\n")
    assert result.exit_code == 0, result.output
    assert "2 statements to be voided" in result.output
    db_session.expire_all()
    user = db_session.get(User, learner.id)
    assert user.email != "oppija@kirjasto.example" and not user.is_active


@pytest.mark.parametrize(
    "args", [["erase", "nobody@kirjasto.example", "--yes"], ["export", "nobody@kirjasto.example"]]
)
def test_users_erase_and_export_of_an_unknown_email_is_one_line_exit_2(runner, args):
    result = runner.invoke(args=["users", *args])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "nobody@kirjasto.example" in result.output
