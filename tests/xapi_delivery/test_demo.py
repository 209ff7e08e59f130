"""``flask demo seed`` records learning through the services: every statement it makes is valid."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select, text

from liboppi.models import CourseProgress, Membership, OutboxStatus, Role
from liboppi.services import delivery
from liboppi.xapi import vocabulary as v
from tests.xapi_delivery.conftest import assert_valid_statement, lrs_statements, rows

EMITTED_VERBS = {
    v.EXPERIENCED.iri,
    v.COMPLETED.iri,
    v.ATTEMPTED.iri,
    v.ANSWERED.iri,
    v.PASSED.iri,
    v.FAILED.iri,
}


@pytest.fixture
def seeded(app, runner):
    """A fresh database as ``make run`` makes it: content and quizzes imported, demo seeded."""
    for command in (["orgs", "load"], ["content", "import"], ["quiz", "import"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    started = time.perf_counter()
    result = runner.invoke(args=["demo", "seed"])
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    yield result.output, seconds
    engine = app.extensions["liboppi.engine"]
    if engine.dialect.name == "sqlite":  # the search index is not a model table
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS module_search"))


def test_demo_seed_records_every_kind_of_event_and_every_statement_is_valid(seeded, db_session):
    output, seconds = seeded
    assert "quiz attempts" in output
    assert seconds < 10, f"flask demo seed took {seconds:.1f} s"
    outbox = rows(db_session)
    statements = [assert_valid_statement(row.payload) for row in outbox]
    assert {s["verb"]["id"] for s in statements} == EMITTED_VERBS
    courses_completed = [
        s for s in statements if s["object"]["definition"]["type"] == v.COURSE_TYPE
    ]
    assert len(courses_completed) == db_session.query(CourseProgress).count() >= 1
    assert {s["context"]["language"] for s in statements} == {"fi", "sv"}
    libraries = {row.library_id for row in outbox}
    assert len(libraries - {None}) >= 3
    coordinators = set(
        db_session.scalars(
            select(Membership.user_id).where(Membership.role == Role.LIBRARY_COORDINATOR)
        )
    )
    assert coordinators & {row.user_id for row in outbox}
    # Answers carry their interaction, with the correct responses pattern.
    answered = [s for s in statements if s["verb"]["id"] == v.ANSWERED.iri]
    assert all(s["object"]["definition"]["interactionType"] for s in answered)
    assert any(s["object"]["definition"].get("correctResponsesPattern") for s in answered)


def test_demo_seed_twice_adds_no_activity(seeded, runner, db_session):
    before = len(rows(db_session))
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "Demo activity exists already." in again.output
    assert len(rows(db_session)) == before


@pytest.mark.lrs
def test_the_lrs_takes_every_demo_statement_grouped_by_library(
    seeded, store, lrs_settings, db_session
):
    report = delivery.flush(store, lrs_settings)
    assert (report.parked, report.stopped_reason) == (0, None)
    outbox = rows(db_session)
    assert {row.status for row in outbox} == {OutboxStatus.DELIVERED}
    by_library: dict[str, set[str]] = {}
    for row in outbox:
        data = json.loads(row.payload)
        (library,) = [
            activity["id"]
            for activity in data["context"]["contextActivities"]["grouping"]
            if activity["definition"]["type"] == v.ORGANIZATION_TYPE
        ]
        by_library.setdefault(library, set()).add(row.statement_id)
    for library, ids in by_library.items():
        found = lrs_statements(lrs_settings.endpoint, activity=library, related_activities="true")
        assert ids <= {s["id"] for s in found}, library
