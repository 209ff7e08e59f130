"""The SQL outbox store: leases, marks and concurrent claims, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from liboppi import clock
from liboppi.models import OutboxStatement, OutboxStatus
from liboppi.services import delivery, outbox
from liboppi.services.delivery import DEFAULT_LEASE, SqlOutboxStore
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


def test_claim_gives_due_statements_oldest_first_with_the_stored_bytes(
    store, record_views, learner, db_session
):
    ids = record_views(learner, 3)
    items = store.claim_batch(10, clock.now())
    assert [item.statement_id for item in items] == ids
    stored = {row.statement_id: row.payload for row in rows(db_session)}
    assert all(item.payload == stored[item.statement_id] for item in items)
    assert all(item.attempts == 0 for item in items)


def test_claim_respects_the_limit(store, record_views, learner):
    ids = record_views(learner, 5)
    assert [i.statement_id for i in store.claim_batch(2, clock.now())] == ids[:2]
    assert [i.statement_id for i in store.claim_batch(10, clock.now())] == ids[2:]


def test_claimed_statements_are_not_claimed_again_until_the_lease_runs_out(
    store, record_views, learner
):
    record_views(learner, 2)
    first = store.claim_batch(10, clock.now())
    assert len(first) == 2
    assert store.claim_batch(10, clock.now()) == []
    # A worker that crashed never marks them: they come back after the lease.
    later = clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
    assert [i.id for i in store.claim_batch(10, later)] == [i.id for i in first]


def test_statements_enqueued_in_the_future_are_not_due(store, record_views, learner):
    clock.set_now(T0 + timedelta(minutes=1))
    record_views(learner, 1)
    assert store.claim_batch(10, T0) == []


def test_mark_delivered_records_delivery_and_they_are_never_claimed_again(
    store, record_views, learner, db_session
):
    record_views(learner, 2)
    items = store.claim_batch(10, clock.now())
    store.mark_delivered([i.id for i in items])
    assert {(r.status, r.delivered_at) for r in rows(db_session)} == {(OutboxStatus.DELIVERED, T0)}
    clock.advance(timedelta(days=1))
    assert store.claim_batch(10, clock.now()) == []


def test_mark_retry_counts_the_attempt_and_waits_until_the_given_time(
    store, record_views, learner, db_session
):
    record_views(learner, 2)
    items = store.claim_batch(10, clock.now())
    retry_at = T0 + timedelta(seconds=30)
    store.mark_retry([i.id for i in items], retry_at, "HTTP 503: busy")
    assert {(r.status, r.attempts, r.next_attempt_at, r.last_error) for r in rows(db_session)} == {
        (OutboxStatus.PENDING, 1, retry_at, "HTTP 503: busy")
    }
    assert store.claim_batch(10, retry_at - timedelta(seconds=1)) == []
    again = store.claim_batch(10, retry_at)
    assert [i.attempts for i in again] == [1, 1]


def test_mark_parked_keeps_the_message_and_retry_parked_puts_it_back(
    store, record_views, learner, db_session
):
    ids = record_views(learner, 2)
    items = store.claim_batch(10, clock.now())
    store.mark_parked(items[0].id, "object.id: not an IRI")
    store.mark_delivered([items[1].id])
    parked = rows(db_session)[0]
    assert (parked.status, parked.last_error) == (OutboxStatus.PARKED, "object.id: not an IRI")
    assert store.claim_batch(10, clock.now()) == []

    assert outbox.retry_parked(db_session, ["not-that-one"]) == 0
    assert outbox.retry_parked(db_session, [ids[0]]) == 1
    db_session.commit()
    assert [i.statement_id for i in store.claim_batch(10, clock.now())] == [ids[0]]


def test_release_makes_statements_due_at_once_without_counting_an_attempt(
    store, record_views, learner, db_session
):
    record_views(learner, 2)
    items = store.claim_batch(10, clock.now())
    store.release([i.id for i in items])
    again = store.claim_batch(10, clock.now())
    assert [i.id for i in again] == [i.id for i in items]
    assert {r.attempts for r in rows(db_session)} == {0}


def test_an_auth_failure_is_recorded_and_a_later_delivery_clears_it(
    store, record_views, learner, db_session
):
    record_views(learner, 1)
    store.record_auth_failure("LRS refused the credentials (HTTP 401): no")
    status = delivery.get_status(db_session, "http://lrs.test/xAPI/")
    assert status.auth_failure == "LRS refused the credentials (HTTP 401): no"
    assert status.auth_failed_at == T0
    db_session.rollback()
    items = store.claim_batch(10, clock.now())
    store.mark_delivered([i.id for i in items])
    db_session.expire_all()
    status = delivery.get_status(db_session, "http://lrs.test/xAPI/")
    assert status.auth_failure is None and status.last_delivered_at == T0


def test_status_counts_each_state_and_the_oldest_pending_age(
    store, record_views, learner, db_session
):
    record_views(learner, 1)
    clock.set_now(T0 + timedelta(minutes=10))
    record_views(learner, 3)
    items = store.claim_batch(2, clock.now())
    store.mark_delivered([items[0].id])
    store.mark_parked(items[1].id, "bad")
    clock.set_now(T0 + timedelta(hours=1))
    status = delivery.get_status(db_session, None)
    assert (status.outbox.pending, status.outbox.delivered, status.outbox.parked) == (2, 1, 1)
    assert status.outbox.due == 2
    assert status.oldest_pending_age == timedelta(minutes=50)
    assert status.as_dict()["endpoint_configured"] is False


def test_concurrent_claims_never_hand_out_a_statement_twice(sessions, record_views, learner):
    record_views(learner, 60)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        store = SqlOutboxStore(sessions)
        start.wait()
        try:
            while batch := store.claim_batch(3, T0):
                claimed.append([item.id for item in batch])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    ids = [i for batch in claimed for i in batch]
    assert len(ids) == 60 and len(set(ids)) == 60


def test_the_store_uses_sessions_of_its_own_and_leaves_the_callers_alone(
    store, record_views, learner, db_session
):
    record_views(learner, 1)
    db_session.scalar(select(OutboxStatement.id))  # the caller has a transaction open
    items = store.claim_batch(1, clock.now())
    store.mark_delivered([items[0].id])
    db_session.rollback()
    assert rows(db_session)[0].status == OutboxStatus.DELIVERED
