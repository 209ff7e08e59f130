"""The sender and the statements against the real local LRS (Learning Locker xapi-statements)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from liboppi.xapi import statements as s
from liboppi.xapi.sender import DeliveryReport, LrsClient, LrsResponse, deliver_once
from tests.lrs.client import lrs_get
from tests.xapi.examples import (
    BASE_URL,
    COURSE,
    MODULE,
    QUIZ,
    REGISTRATION,
    FakeClock,
    build_examples,
    learner,
)
from tests.xapi.memory_outbox import MemoryOutbox

pytestmark = pytest.mark.lrs


class RecordingClient(LrsClient):
    """An LrsClient that remembers (method, path, status) of every request."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint, "liboppi", "test", connect_timeout=5, read_timeout=30)
        self.log: list[tuple[str, str, int]] = []

    def begin(self, method: str, path: str, body: bytes | None = None) -> Callable[[], LrsResponse]:
        answer = super().begin(method, path, body)

        def logged() -> LrsResponse:
            response = answer()
            self.log.append((method, path.split("?")[0], response.status))
            return response

        return logged


def agent(user_id: str) -> str:
    return json.dumps({"objectType": "Agent", "account": {"homePage": BASE_URL, "name": user_id}})


def someone() -> s.Origin:
    """A learner no other test uses, so queries see only this test's statements."""
    return learner(f"u-{uuid.uuid4().hex}")


def test_every_kind_of_statement_is_accepted_by_the_lrs(lrs_endpoint: str) -> None:
    clock = FakeClock()
    outbox = MemoryOutbox()
    examples = build_examples(someone(), id_factory=uuid.uuid4, clock=clock)
    examples.pop("statement_voided")  # it voids an id this LRS never had: see test below
    for statement in examples.values():
        outbox.add(statement, clock())
    with RecordingClient(lrs_endpoint) as client:
        report = deliver_once(outbox, client, clock=clock)
    assert report == DeliveryReport(delivered=len(examples), claimed=len(examples))
    assert client.log == [("POST", "/statements", 200)]
    status, body = lrs_get(lrs_endpoint, statementId=examples["quiz_passed"].id)
    assert status == 200 and body["result"]["score"]["scaled"] == 0.7778


def test_batch_arrives_and_can_be_queried_by_agent_verb_and_activity(lrs_endpoint: str) -> None:
    clock = FakeClock()
    outbox = MemoryOutbox()
    who = someone()
    built = [
        s.module_experienced(who, COURSE, MODULE, clock=clock),
        s.module_completed(who, COURSE, MODULE, duration=95.5, clock=clock),
        s.quiz_attempted(who, QUIZ, registration=REGISTRATION, clock=clock),
    ]
    for statement in built:
        outbox.add(statement, clock())
    with LrsClient(lrs_endpoint, "liboppi", "test") as client:
        assert deliver_once(outbox, client, clock=clock).delivered == 3

    module_iri = f"{BASE_URL}/xapi/activities/module/{MODULE.id}"
    status, body = lrs_get(
        lrs_endpoint,
        agent=agent(who.user_id),
        verb="http://adlnet.gov/expapi/verbs/completed",
        activity=module_iri,
    )
    assert status == 200
    [found] = body["statements"]
    assert found["id"] == built[1].id
    assert found["result"]["duration"] == "PT1M35.5S"
    assert found["timestamp"].startswith("2026-11-26T09:30:00.123")
    status, body = lrs_get(lrs_endpoint, agent=agent(who.user_id))
    assert sorted(x["id"] for x in body["statements"]) == sorted(x.id for x in built)
    # Grouped by library: the library activity finds them with related_activities.
    library_iri = f"{BASE_URL}/xapi/activities/library/inari-main"
    status, body = lrs_get(
        lrs_endpoint, agent=agent(who.user_id), activity=library_iri, related_activities="true"
    )
    assert len(body["statements"]) == 3


def test_batch_with_one_invalid_statement_delivers_the_rest_and_parks_it(
    lrs_endpoint: str,
) -> None:
    clock = FakeClock()
    outbox = MemoryOutbox()
    who = someone()
    good = [s.module_experienced(who, COURSE, MODULE, clock=clock) for _ in range(3)]
    bad = s.quiz_passed(who, QUIZ, s.Score(raw=1, max=2), registration=REGISTRATION, clock=clock)
    broken = json.loads(s.serialise(bad))
    broken["result"]["score"]["scaled"] = 1.5  # what a buggy grader might have stored
    outbox.add(good[0], clock())
    outbox.add_bytes(bad.id, json.dumps(broken).encode(), clock())
    outbox.add(good[1], clock())
    outbox.add(good[2], clock())

    with RecordingClient(lrs_endpoint) as client:
        report = deliver_once(outbox, client, clock=clock)

    assert client.log == [("POST", "/statements", 400)] + [
        ("PUT", "/statements", status) for status in (204, 400, 204, 204)
    ]
    assert report == DeliveryReport(delivered=3, parked=1, claimed=4)
    parked = outbox.rows[2]
    assert parked.state == "parked"
    assert parked.parked_message and "scaled" in parked.parked_message
    for statement in good:
        assert lrs_get(lrs_endpoint, statementId=statement.id)[0] == 200
    assert lrs_get(lrs_endpoint, statementId=bad.id)[0] == 404


def test_409_on_a_resend_counts_as_delivered(lrs_endpoint: str) -> None:
    clock = FakeClock()
    outbox = MemoryOutbox()
    who = someone()
    already = s.module_completed(who, COURSE, MODULE, duration=60, clock=clock)
    fresh = s.module_experienced(who, COURSE, MODULE, clock=clock)
    with RecordingClient(lrs_endpoint) as client:
        # The LRS holds our id already, with other content (e.g. a duration since rounded).
        first = dict(already.data, result={"completion": True, "duration": "PT61S"})
        assert client.put_statement(already.id, json.dumps(first).encode()).status == 204
        outbox.add(already, clock())
        outbox.add(fresh, clock())
        report = deliver_once(outbox, client, clock=clock)
    assert report == DeliveryReport(delivered=2, claimed=2)
    assert client.log[1:] == [
        ("POST", "/statements", 409),
        ("PUT", "/statements", 409),
        ("PUT", "/statements", 204),
    ]
    assert lrs_get(lrs_endpoint, statementId=fresh.id)[0] == 200


def test_resending_the_same_bytes_is_harmless(lrs_endpoint: str) -> None:
    clock = FakeClock()
    statement = s.module_experienced(someone(), COURSE, MODULE, clock=clock)
    with RecordingClient(lrs_endpoint) as client:
        for _ in range(2):
            outbox = MemoryOutbox()
            outbox.add(statement, clock())
            assert deliver_once(outbox, client, clock=clock).delivered == 1
    assert [status for _, _, status in client.log] == [200, 200]


def test_voiding_hides_the_statement(lrs_endpoint: str) -> None:
    clock = FakeClock()
    outbox = MemoryOutbox()
    who = someone()
    statement = s.module_completed(who, COURSE, MODULE, clock=clock)
    outbox.add(statement, clock())
    with LrsClient(lrs_endpoint, "liboppi", "test") as client:
        assert deliver_once(outbox, client, clock=clock).delivered == 1
        clock.advance(60)
        voiding = s.statement_voided(BASE_URL, "liboppi-service", statement.id, clock=clock)
        outbox.add(voiding, clock())
        assert deliver_once(outbox, client, clock=clock).delivered == 1
    assert lrs_get(lrs_endpoint, statementId=statement.id)[0] == 404
    status, body = lrs_get(lrs_endpoint, voidedStatementId=statement.id)
    assert status == 200 and body["id"] == statement.id
    # The learner's own statement is gone from queries; only the voiding one refers to it.
    status, body = lrs_get(lrs_endpoint, agent=agent(who.user_id))
    assert [x["id"] for x in body["statements"]] == [voiding.id]


def _listening(port: int) -> list[str]:
    """Return the local addresses listening on ``port``, from /proc/net/tcp and tcp6."""
    addresses = []
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                addresses.append(address)
    return addresses


def test_lrs_listens_on_loopback_only(lrs_endpoint: str) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp")
    port = urlsplit(lrs_endpoint).port
    assert port is not None
    assert _listening(port) == ["0100007F"]  # 127.0.0.1, and no 0.0.0.0 or [::]
