"""Delivery from the database outbox to the real local LRS (Learning Locker xapi-statements)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from urllib.request import Request, urlopen

import pytest

from liboppi import clock
from liboppi.models import OutboxStatement, OutboxStatus
from liboppi.services import delivery, outbox
from liboppi.services.delivery import LrsSettings
from liboppi.xapi import statements as xs
from liboppi.xapi import vocabulary as v
from liboppi.xapi.sender import StopReason
from tests.lrs.client import AUTH, lrs_get
from tests.lrs.server import free_port
from tests.xapi_delivery.conftest import (
    BASE_URL,
    agent_of,
    assert_valid_statement,
    lrs_statements,
    rows,
)

pytestmark = pytest.mark.lrs
IRIS = v.Iris(BASE_URL)


def test_statements_arrive_and_can_be_queried_by_agent_verb_activity_and_library(
    store, lrs_settings, record_views, create_user, create_library, db_session
):
    inari, kemi = create_library("Inarin kirjasto"), create_library("Kemin kirjasto")
    anna = create_user("learner", library=inari)
    ville = create_user("learner", library=kemi)
    prefix = f"m-{uuid.uuid4().hex[:8]}"
    anna_ids = record_views(anna, 3, prefix=prefix)
    ville_ids = record_views(ville, 2, prefix=prefix)

    report = delivery.flush(store, lrs_settings)

    assert (report.delivered, report.parked, report.stopped_reason) == (5, 0, None)
    assert {r.status for r in rows(db_session)} == {OutboxStatus.DELIVERED}
    endpoint = lrs_settings.endpoint
    by_agent = lrs_statements(endpoint, agent=agent_of(anna.public_id))
    assert sorted(s["id"] for s in by_agent) == sorted(anna_ids)
    by_verb_and_activity = lrs_statements(
        endpoint, verb=v.EXPERIENCED.iri, activity=IRIS.module(f"{prefix}-0")
    )
    assert sorted(s["id"] for s in by_verb_and_activity) == sorted([anna_ids[0], ville_ids[0]])
    in_kemi = lrs_statements(endpoint, activity=IRIS.library(kemi.code), related_activities="true")
    assert sorted(s["id"] for s in in_kemi) == sorted(ville_ids)
    # What the LRS holds is what was stored, byte for byte in meaning.
    stored = {r.statement_id: json.loads(r.payload) for r in rows(db_session)}
    for statement in by_agent:
        assert statement["timestamp"].startswith(stored[statement["id"]]["timestamp"][:19])
        assert statement["context"] == stored[statement["id"]]["context"]


def test_lrs_down_then_up_loses_nothing_and_stores_each_statement_once(
    store, lrs_settings, record_views, create_user, db_session
):
    learner = create_user("learner")
    first = record_views(learner, 3)
    down = LrsSettings(f"http://127.0.0.1:{free_port()}/xAPI/", "liboppi", "test")

    report = delivery.flush(store, down)

    assert report.stopped_reason is StopReason.LRS_UNAVAILABLE and report.retried == 3
    assert {(r.status, r.attempts) for r in rows(db_session)} == {(OutboxStatus.PENDING, 1)}
    assert all(r.last_error for r in rows(db_session))
    second = record_views(learner, 2)  # learning goes on while the LRS is down
    clock.set_now(clock.now() + timedelta(hours=2))  # past any backoff

    report = delivery.flush(store, lrs_settings)

    assert report.delivered == 5 and report.stopped_reason is None
    at_lrs = [
        s["id"] for s in lrs_statements(lrs_settings.endpoint, agent=agent_of(learner.public_id))
    ]
    assert sorted(at_lrs) == sorted(first + second)
    assert delivery.flush(store, lrs_settings).claimed == 0


def test_one_invalid_statement_in_a_batch_is_parked_with_the_lrs_message(
    store, lrs_settings, record_views, create_user, db_session
):
    learner = create_user("learner")
    before = record_views(learner, 2)
    bad_id = str(uuid.uuid4())
    bad = json.loads(rows(db_session)[0].payload)
    bad["id"] = bad_id
    bad["timestamp"] = "2026-11-26T09:30:00"  # no zone: real LRSs refuse it
    db_session.add(
        OutboxStatement(
            statement_id=bad_id,
            payload=json.dumps(bad).encode(),
            verb=bad["verb"]["id"],
            user_id=learner.id,
            status=OutboxStatus.PENDING,
            attempts=0,
            created_at=clock.now(),
            next_attempt_at=clock.now(),
        )
    )
    db_session.commit()
    after = record_views(learner, 2)

    report = delivery.flush(store, lrs_settings)

    assert (report.delivered, report.parked) == (4, 1)
    parked = [r for r in rows(db_session) if r.status == OutboxStatus.PARKED]
    assert [r.statement_id for r in parked] == [bad_id]
    assert "timestamp" in parked[0].last_error.lower()
    at_lrs = [
        s["id"] for s in lrs_statements(lrs_settings.endpoint, agent=agent_of(learner.public_id))
    ]
    assert sorted(at_lrs) == sorted(before + after)
    status = delivery.get_status(db_session, lrs_settings.endpoint)
    assert status.outbox.parked == 1 and "timestamp" in status.last_error.lower()


def test_a_statement_already_at_the_lrs_with_our_id_counts_as_delivered(
    store, lrs_settings, record_views, create_user, db_session
):
    learner = create_user("learner")
    (statement_id,) = record_views(learner, 1)
    row = rows(db_session)[0]
    # Sent before (say by a worker that died before marking it), then changed locally.
    earlier = json.loads(row.payload)
    earlier["timestamp"] = "2026-01-01T00:00:00.000Z"
    request = Request(
        f"{lrs_settings.endpoint}statements?statementId={statement_id}",
        data=json.dumps(earlier).encode(),
        method="PUT",
        headers={
            "X-Experience-API-Version": "1.0.3",
            "Authorization": AUTH,
            "Content-Type": "application/json",
        },
    )
    with urlopen(request, timeout=10) as response:
        assert response.status == 204

    report = delivery.flush(store, lrs_settings)

    assert (report.delivered, report.parked) == (1, 0)
    assert rows(db_session)[0].status == OutboxStatus.DELIVERED


def test_every_delivered_statement_is_valid_for_ralph(
    store, lrs_settings, record_views, create_user, db_session
):
    record_views(create_user("learner"), 2)
    delivery.flush(store, lrs_settings)
    for row in rows(db_session):
        assert_valid_statement(row.payload)


def test_a_voided_statement_is_gone_from_queries_but_found_by_voided_id(
    store, lrs_settings, record_views, create_user, db_session
):
    (statement_id,) = record_views(create_user("learner"), 1)
    delivery.flush(store, lrs_settings)
    voiding = xs.statement_voided(BASE_URL, "liboppi-service", statement_id)
    outbox.enqueue(db_session, voiding, user_id=None, library_id=None)
    db_session.commit()

    assert delivery.flush(store, lrs_settings).delivered == 1

    assert lrs_get(lrs_settings.endpoint, statementId=statement_id)[0] == 404
    status, body = lrs_get(lrs_settings.endpoint, voidedStatementId=statement_id)
    assert status == 200 and body["id"] == statement_id
