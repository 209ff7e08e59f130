"""The delivery engine against a fake LRS: failures the real LRS cannot be made to show."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liboppi.xapi.sender import (
    CLAIM_BATCHES,
    Backoff,
    DeliveryReport,
    LrsClient,
    LrsUnreachable,
    StopReason,
    deliver_once,
    join_payloads,
    parse_retry_after,
    run_worker,
)
from liboppi.xapi.statements import module_experienced, serialise
from tests.lrs.server import free_port
from tests.xapi.examples import COURSE, MODULE, FakeClock, learner, sequential_ids
from tests.xapi.fake_lrs import FakeLrs, Reply
from tests.xapi.memory_outbox import MemoryOutbox

HALF = Backoff(base=2.0, cap=3600.0, random=lambda: 0.5)
NO_JITTER_FLOOR = Backoff(base=2.0, cap=3600.0, random=lambda: 0.0)


def fill(outbox: MemoryOutbox, clock: FakeClock, count: int, *, start: int = 1) -> list[str]:
    """Queue ``count`` statements and return their ids."""
    ids = sequential_ids(start)
    statements = [
        module_experienced(learner(f"u-{n}"), COURSE, MODULE, id_factory=ids, clock=clock)
        for n in range(count)
    ]
    for statement in statements:
        outbox.add(statement, clock())
    return [statement.id for statement in statements]


def client_for(endpoint: str, **timeouts: float) -> LrsClient:
    return LrsClient(endpoint, "liboppi", "salasana", **timeouts)


def test_batch_is_posted_as_the_stored_bytes_with_xapi_headers(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    fill(outbox, clock, 3)
    payloads = [row.payload for row in outbox.rows.values()]
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, batch_size=10, clock=clock)
    assert report == DeliveryReport(delivered=3, claimed=3)
    [request] = lrs.received
    assert (request.method, request.path) == ("POST", "/xAPI/statements")
    assert request.body == b"[" + b",".join(payloads) + b"]" == join_payloads(payloads)
    assert request.headers["x-experience-api-version"] == "1.0.3"
    assert request.headers["content-type"] == "application/json"
    expected = base64.b64encode(b"liboppi:salasana").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert len(outbox.in_state("delivered")) == 3


def test_outbox_is_sent_in_batches_of_the_given_size(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    ids = fill(outbox, clock, 250)
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, batch_size=100, clock=clock)
    assert report.delivered == 250 and report.stopped_reason is None
    assert [len(json.loads(r.body)) for r in lrs.received] == [100, 100, 50]
    assert sorted(lrs.stored) == sorted(ids) and set(lrs.stored.values()) == {1}


def test_500s_then_success_retries_with_backoff_and_delivers_once(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    ids = fill(outbox, clock, 5)
    replies = [Reply(500, b"boom"), Reply(503, b"busy")]
    with FakeLrs(replies) as lrs, client_for(lrs.endpoint) as client:
        first = deliver_once(outbox, client, clock=clock, backoff=HALF)
        assert first.retried == 5 and first.stopped_reason is StopReason.LRS_UNAVAILABLE
        assert first.message == "HTTP 500: boom"
        row = outbox.rows[1]
        # attempts 0: full jitter in 0 .. 2 s, the injected random picks the middle.
        assert row.next_attempt_at == clock() + timedelta(seconds=1)
        assert row.attempts == 1 and row.error == "HTTP 500: boom"

        assert deliver_once(outbox, client, clock=clock, backoff=HALF) == DeliveryReport()
        assert len(lrs.received) == 1  # nothing was due: no request

        clock.advance(1)
        second = deliver_once(outbox, client, clock=clock, backoff=HALF)
        assert second.retried == 5
        assert outbox.rows[1].next_attempt_at == clock() + timedelta(seconds=2)

        clock.advance(2)
        third = deliver_once(outbox, client, clock=clock, backoff=HALF)
    assert third == DeliveryReport(delivered=5, claimed=5)
    assert sorted(lrs.stored) == sorted(ids) and set(lrs.stored.values()) == {1}


def test_429_retry_after_seconds_is_honoured(outbox: MemoryOutbox, clock: FakeClock) -> None:
    fill(outbox, clock, 2)
    with (
        FakeLrs([Reply(429, headers={"Retry-After": "120"})]) as lrs,
        client_for(lrs.endpoint) as client,
    ):
        report = deliver_once(outbox, client, clock=clock, backoff=NO_JITTER_FLOOR)
        assert report.retried == 2
        assert outbox.rows[1].next_attempt_at == clock() + timedelta(seconds=120)
        clock.advance(119)
        assert deliver_once(outbox, client, clock=clock).claimed == 0
        clock.advance(1)
        assert deliver_once(outbox, client, clock=clock).delivered == 2
    assert len(lrs.received) == 2


def test_429_retry_after_http_date_is_honoured(outbox: MemoryOutbox, clock: FakeClock) -> None:
    fill(outbox, clock, 1)
    later = format_datetime(clock() + timedelta(seconds=300), usegmt=True)
    with (
        FakeLrs([Reply(429, headers={"Retry-After": later})]) as lrs,
        client_for(lrs.endpoint) as client,
    ):
        deliver_once(outbox, client, clock=clock, backoff=NO_JITTER_FLOOR)
    # The HTTP date has whole seconds: the clock's 0.123456 s are lost.
    expected = (clock() + timedelta(seconds=300)).replace(microsecond=0)
    assert outbox.rows[1].next_attempt_at == expected
    assert len(lrs.received) == 1


def test_retry_after_longer_than_the_cap_is_capped(outbox: MemoryOutbox, clock: FakeClock) -> None:
    fill(outbox, clock, 1)
    with (
        FakeLrs([Reply(503, headers={"Retry-After": "999999"})]) as lrs,
        client_for(lrs.endpoint) as client,
    ):
        deliver_once(outbox, client, clock=clock, backoff=NO_JITTER_FLOOR)
    assert outbox.rows[1].next_attempt_at == clock() + timedelta(hours=1)
    assert len(lrs.received) == 1


def test_response_slower_than_the_read_timeout_is_retried_later(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    ids = fill(outbox, clock, 3)
    held = threading.Event()
    with FakeLrs([Reply(200, b"[]", hold=held)]) as lrs:
        with client_for(lrs.endpoint, read_timeout=0.2) as impatient:
            first = deliver_once(outbox, impatient, clock=clock, backoff=HALF)
        held.set()
        assert first.stopped_reason is StopReason.LRS_UNAVAILABLE and first.retried == 3
        assert first.message is not None and "timed out" in first.message
        assert [row.state for row in outbox.rows.values()] == ["pending"] * 3
        clock.advance(3600)
        with client_for(lrs.endpoint) as client:
            second = deliver_once(outbox, client, clock=clock, backoff=HALF)
    assert second.delivered == 3
    assert sorted(lrs.stored) == sorted(ids) and set(lrs.stored.values()) == {1}


def test_lrs_down_then_up_every_statement_arrives_exactly_once(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    ids = fill(outbox, clock, 120)
    port = free_port()
    with client_for(f"http://127.0.0.1:{port}/xAPI/") as client:
        down = deliver_once(outbox, client, batch_size=50, clock=clock, backoff=HALF)
        assert down.stopped_reason is StopReason.LRS_UNAVAILABLE
        assert down.retried == 50 and down.delivered == 0
        assert down.message is not None and "ConnectionRefused" in down.message
        clock.advance(3600)
        with FakeLrs(port=port) as lrs:
            up = deliver_once(outbox, client, batch_size=50, clock=clock, backoff=HALF)
    assert up.delivered == 120 and up.stopped_reason is None
    assert sorted(lrs.stored) == sorted(ids) and set(lrs.stored.values()) == {1}
    assert not outbox.in_state("pending") and not outbox.in_state("claimed")


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_stops_sending_and_is_recorded(
    outbox: MemoryOutbox, clock: FakeClock, status: int
) -> None:
    fill(outbox, clock, 250)
    with FakeLrs([Reply(status, b"bad credentials")]) as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, batch_size=100, clock=clock)
    assert report.stopped_reason is StopReason.AUTH_FAILED
    assert report.delivered == report.retried == report.parked == 0
    assert len(lrs.received) == 1  # no further requests in that run
    assert outbox.auth_failures == [f"LRS refused the credentials (HTTP {status}): bad credentials"]
    # Nothing was lost or counted as an attempt: all 250 wait for new credentials.
    assert len(outbox.in_state("pending")) == 250
    assert {row.attempts for row in outbox.rows.values()} == {0}


def test_auth_failure_while_resending_one_by_one_stops_too(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    fill(outbox, clock, 4)
    replies = [Reply(400, b"bad statement"), Reply(204), Reply(401, b"expired")]
    with FakeLrs(replies) as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, clock=clock)
    assert [r.method for r in lrs.received] == ["POST", "PUT", "PUT"]
    assert report.delivered == 1 and report.stopped_reason is StopReason.AUTH_FAILED
    assert [row.state for row in outbox.rows.values()] == [
        "delivered",
        "pending",
        "pending",
        "pending",
    ]


def test_400_on_a_batch_resends_one_by_one_and_parks_the_rejected(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    ids = fill(outbox, clock, 3)
    replies = [
        Reply(400, b"batch rejected"),
        Reply(204),
        Reply(400, b"scaled > 1"),
        Reply(409, b"conflict"),
    ]
    with FakeLrs(replies) as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, clock=clock)
    assert [(r.method, r.path) for r in lrs.received] == [("POST", "/xAPI/statements")] + [
        ("PUT", f"/xAPI/statements?statementId={sid}") for sid in ids
    ]
    assert [r.body for r in lrs.received[1:]] == [row.payload for row in outbox.rows.values()]
    assert report == DeliveryReport(delivered=2, parked=1, claimed=3)
    assert outbox.rows[2].state == "parked" and outbox.rows[2].parked_message == "scaled > 1"
    assert outbox.rows[3].state == "delivered"  # 409: already there


def test_5xx_while_resending_one_by_one_retries_the_rest(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    fill(outbox, clock, 3)
    replies = [Reply(400), Reply(204), Reply(502, b"gateway")]
    with FakeLrs(replies) as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, clock=clock, backoff=HALF)
    assert len(lrs.received) == 3
    assert report.delivered == 1 and report.retried == 2
    assert report.stopped_reason is StopReason.LRS_UNAVAILABLE
    assert [row.state for row in outbox.rows.values()] == ["delivered", "pending", "pending"]


def test_connection_closed_by_the_lrs_while_idle_is_reopened(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    fill(outbox, clock, 2)
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        lrs.close_after_each = True
        assert deliver_once(outbox, client, batch_size=1, clock=clock, max_batches=1).delivered
        assert deliver_once(outbox, client, batch_size=1, clock=clock).delivered == 1
    assert len(lrs.stored) == 2


def test_worker_sends_until_idle_sleeps_and_stops_on_the_event(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    fill(outbox, clock, 250)
    stop = threading.Event()
    sleeps: list[float] = []

    def sleeper(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            stop.set()
        else:
            fill(outbox, clock, 1, start=1000)  # a new event while the worker slept

    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        total = run_worker(
            outbox, client, stop, batch_size=100, idle_seconds=5.0, clock=clock, sleeper=sleeper
        )
    assert total.delivered == 251
    assert sleeps == [5.0, 5.0]
    assert [len(json.loads(r.body)) for r in lrs.received] == [100, 100, 50, 1]


def test_worker_returns_on_auth_failure_without_sleeping(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    fill(outbox, clock, 3)
    sleeps: list[float] = []
    with FakeLrs([Reply(401)]) as lrs, client_for(lrs.endpoint) as client:
        total = run_worker(outbox, client, threading.Event(), clock=clock, sleeper=sleeps.append)
    assert total.stopped_reason is StopReason.AUTH_FAILED and sleeps == []
    assert len(lrs.received) == 1


def test_worker_does_nothing_once_stopped(outbox: MemoryOutbox, clock: FakeClock) -> None:
    fill(outbox, clock, 1)
    stop = threading.Event()
    stop.set()
    with client_for("http://127.0.0.1:9/xAPI/") as client:
        assert run_worker(outbox, client, stop, clock=clock) == DeliveryReport()
    assert outbox.calls == []


@given(st.integers(min_value=0, max_value=200), st.floats(min_value=0, max_value=1))
def test_backoff_is_full_jitter_up_to_the_cap(attempts: int, draw: float) -> None:
    backoff = Backoff(base=2.0, cap=3600.0, random=lambda: draw)
    delay = backoff.delay(attempts)
    assert 0 <= delay <= min(3600.0, 2.0 * 2**attempts)
    assert delay == pytest.approx(draw * min(3600.0, 2.0 * 2**attempts))


@given(st.integers(min_value=0, max_value=50), st.floats(min_value=0, max_value=10**6))
def test_backoff_waits_at_least_retry_after_up_to_the_cap(attempts: int, after: float) -> None:
    delay = Backoff(random=lambda: 0.0).delay(attempts, retry_after=after)
    assert delay == min(after, 3600.0)


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Thu, 26 Nov 2026 09:31:00 GMT", now) == 60
    assert parse_retry_after("Thu, 26 Nov 2026 09:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_client_needs_http_endpoint_and_positive_timeouts() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        LrsClient("lrs.example.fi/xAPI", "u", "p")
    with pytest.raises(ValueError, match="timeouts"):
        LrsClient("http://127.0.0.1:9/xAPI/", "u", "p", read_timeout=0)


def test_client_reports_refused_connection_as_unreachable() -> None:
    with client_for(f"http://127.0.0.1:{free_port()}/xAPI/") as client:
        with pytest.raises(LrsUnreachable, match="ConnectionRefused"):
            client.about()


def test_statement_bytes_are_sent_unchanged(outbox: MemoryOutbox, clock: FakeClock) -> None:
    statement = module_experienced(
        learner(), COURSE, MODULE, id_factory=sequential_ids(), clock=clock
    )
    outbox.add(statement, clock())
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        deliver_once(outbox, client, clock=clock)
    assert lrs.received[0].body == b"[" + serialise(statement) + b"]"


def test_while_a_claim_is_out_the_delivered_are_recorded_with_the_next_claim(
    outbox: MemoryOutbox, clock: FakeClock
) -> None:
    fill(outbox, clock, 250)
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, batch_size=10, clock=clock)
    assert report == DeliveryReport(delivered=250, claimed=250)
    assert [len(json.loads(r.body)) for r in lrs.received] == [10] * 25
    # CLAIM_BATCHES batches per claim; while the last batch of a claim is out, one step records
    # what was delivered and claims the next (the sixth claim finds nothing).
    assert CLAIM_BATCHES == 5
    assert outbox.calls == [
        "claim_batch",
        *["mark_delivered", "claim_batch"] * 5,
        "mark_delivered",
    ]
    assert len(outbox.in_state("delivered")) == 250 and not outbox.in_state("claimed")
    assert set(lrs.stored.values()) == {1}


def test_a_stop_releases_the_batch_claimed_ahead(outbox: MemoryOutbox, clock: FakeClock) -> None:
    fill(outbox, clock, 250)
    stop = threading.Event()
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(
            outbox, client, batch_size=100, clock=clock, stop=stop, progress=lambda n: stop.set()
        )
    assert report == DeliveryReport(delivered=100, claimed=100)
    assert len(lrs.received) == 1
    assert len(outbox.in_state("delivered")) == 100 and len(outbox.in_state("pending")) == 150
    assert {row.attempts for row in outbox.rows.values()} == {0}


def test_limit_caps_the_statements_claimed(outbox: MemoryOutbox, clock: FakeClock) -> None:
    fill(outbox, clock, 250)
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        report = deliver_once(outbox, client, batch_size=100, clock=clock, limit=150)
    assert report.delivered == 150
    assert [len(json.loads(r.body)) for r in lrs.received] == [100, 50]
    assert len(outbox.in_state("pending")) == 100 and not outbox.in_state("claimed")


class FailingSecondClaim(MemoryOutbox):
    """An outbox whose database fails on the claim made while the first batch is out."""

    def claim_batch(self, limit, now, *, delivered=()):
        if self.calls.count("claim_batch") == 1:
            self.calls.append("claim_batch failed")
            raise RuntimeError("database went away")
        return super().claim_batch(limit, now, delivered=delivered)


def test_a_store_failure_while_a_batch_is_out_loses_nothing_and_resets_the_connection(
    clock: FakeClock,
) -> None:
    outbox = FailingSecondClaim()
    fill(outbox, clock, 150)
    with FakeLrs() as lrs, client_for(lrs.endpoint) as client:
        with pytest.raises(RuntimeError, match="went away"):
            deliver_once(outbox, client, batch_size=10, clock=clock)
        # The first claim stays leased (its lease runs out, then it is sent again); the client
        # dropped the connection whose answer it never read, so it still works.
        assert len(outbox.in_state("claimed")) == 10 * CLAIM_BATCHES
        assert client.about().status == 200
        # The last batch's POST went out on the dropped connection and the GET on a new one:
        # the fake LRS's threads may record them in either order.
        received = lrs.wait_for(CLAIM_BATCHES + 1)
    assert sorted(r.method for r in received) == ["GET"] + ["POST"] * CLAIM_BATCHES
