"""Delivery faults against a scripted fake LRS: 401, 5xx, 429, timeouts, down then up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from liboppi import clock
from liboppi.models import OutboxStatus
from liboppi.services import delivery
from liboppi.services.delivery import LrsSettings
from liboppi.xapi.sender import StopReason
from tests.lrs.server import free_port
from tests.xapi.fake_lrs import FakeLrs, Reply
from tests.xapi_delivery.conftest import rows

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.set_now(T0)
    yield
    clock.set_now(None)


@pytest.fixture
def learner(create_user):
    return create_user("learner")


def settings(endpoint: str, **kwargs) -> LrsSettings:
    return LrsSettings(endpoint, "liboppi", "wrong", **{"batch_size": 100, **kwargs})


def test_401_stops_at_once_and_keeps_every_statement(store, record_views, learner, db_session):
    record_views(learner, 250)
    with FakeLrs([Reply(401, b'{"message":"Unauthorised"}')]) as fake:
        report = delivery.flush(store, settings(fake.endpoint))
        assert len(fake.received) == 1  # no burning through the outbox

    assert report.stopped_reason is StopReason.AUTH_FAILED
    assert {(r.status, r.attempts, r.next_attempt_at) for r in rows(db_session)} == {
        (OutboxStatus.PENDING, 0, T0)
    }
    status = delivery.get_status(db_session, fake.endpoint)
    assert "401" in status.auth_failure and "Unauthorised" in status.auth_failure
    assert status.auth_failed_at == T0


def test_a_500_is_retried_later_and_then_delivered_once(store, record_views, learner, db_session):
    ids = record_views(learner, 3)
    with FakeLrs([Reply(500, b"boom")]) as fake:
        report = delivery.flush(store, settings(fake.endpoint))
        assert report.stopped_reason is StopReason.LRS_UNAVAILABLE
        retry = rows(db_session)
        assert {(r.attempts, r.last_error) for r in retry} == {(1, "HTTP 500: boom")}
        assert all(r.next_attempt_at > T0 for r in retry)
        assert delivery.flush(store, settings(fake.endpoint)).claimed == 0  # not due yet

        clock.set_now(max(r.next_attempt_at for r in retry))
        assert delivery.flush(store, settings(fake.endpoint)).delivered == 3

    assert {fake.stored[i] for i in ids} == {1}
    assert {r.status for r in rows(db_session)} == {OutboxStatus.DELIVERED}


def test_429_waits_at_least_as_long_as_retry_after(store, record_views, learner, db_session):
    record_views(learner, 2)
    with FakeLrs([Reply(429, b"slow down", {"Retry-After": "120"})]) as fake:
        delivery.flush(store, settings(fake.endpoint))
    assert all(r.next_attempt_at >= T0 + timedelta(seconds=120) for r in rows(db_session))


def test_a_response_slower_than_the_timeout_is_retried_not_lost(
    store, record_views, learner, db_session
):
    ids = record_views(learner, 2)
    release = threading.Event()
    with FakeLrs([Reply(200, b"[]", hold=release)]) as fake:
        slow = settings(fake.endpoint, read_timeout=0.3)
        report = delivery.flush(store, slow)
        release.set()
        assert report.stopped_reason is StopReason.LRS_UNAVAILABLE
        assert "timed out" in rows(db_session)[0].last_error
        clock.set_now(T0 + timedelta(hours=1))
        assert delivery.flush(store, slow).delivered == 2
    assert {fake.stored[i] for i in ids} == {1}


def test_lrs_down_then_up_at_the_same_address_delivers_each_statement_once(
    store, record_views, learner, db_session
):
    port = free_port()
    lrs = settings(f"http://127.0.0.1:{port}/xAPI/")
    first = record_views(learner, 3)
    assert delivery.flush(store, lrs).stopped_reason is StopReason.LRS_UNAVAILABLE
    second = record_views(learner, 2)
    clock.set_now(T0 + timedelta(hours=1))
    with FakeLrs(port=port) as fake:
        assert delivery.flush(store, lrs).delivered == 5
    assert fake.stored == {i: 1 for i in first + second}


def test_a_batch_the_lrs_refuses_is_resent_one_by_one_and_409_counts_as_delivered(
    store, record_views, learner, db_session
):
    ids = record_views(learner, 3)
    replies = [Reply(400, b"batch refused"), Reply(204), Reply(409, b"exists"), Reply(400, b"no")]
    with FakeLrs(replies) as fake:
        report = delivery.flush(store, settings(fake.endpoint))
        puts = [r.path for r in fake.received if r.method == "PUT"]
    assert (report.delivered, report.parked) == (2, 1)
    assert puts == [f"/xAPI/statements?statementId={i}" for i in ids]
    by_id = {r.statement_id: r for r in rows(db_session)}
    assert by_id[ids[1]].status == OutboxStatus.DELIVERED
    assert (by_id[ids[2]].status, by_id[ids[2]].last_error) == (OutboxStatus.PARKED, "no")
