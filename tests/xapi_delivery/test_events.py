"""Learning events and their statements: together or not at all, never waiting for the LRS."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select, text

from liboppi.models import Attempt, AttemptStatus, CourseProgress, ModuleProgress, OutboxStatus
from liboppi.services import attempts, delivery, privacy, progress
from liboppi.services.authz import SYSTEM
from liboppi.xapi import vocabulary as v
from tests.web_client import post_form
from tests.xapi_delivery.conftest import (
    agent_of,
    assert_valid_statement,
    lrs_statements,
    rows,
)
from tests.xapi_delivery.content import (
    COURSE_ID,
    MODULES,
    QUIZ_ID,
    RECORDER,
    import_repository,
    responses,
    write_repository,
)


@pytest.fixture
def repository(tmp_path):
    return write_repository(tmp_path / "repo")


@pytest.fixture
def app_config(app_config, repository):
    return {
        **app_config,
        "LIBOPPI_CONTENT_ROOT": str(repository / "courses"),
        "LIBOPPI_QUIZ_ROOT": str(repository / "quizzes"),
        # Configured, so that a request could reach it if anything tried; sender off.
        "LIBOPPI_LRS_ENDPOINT": "http://127.0.0.1:9/xAPI/",
    }


@pytest.fixture
def imported(app, db_session, repository):
    import_repository(db_session, repository)
    db_session.commit()
    yield
    engine = app.extensions["liboppi.engine"]
    if engine.dialect.name == "sqlite":  # not a model table: the suite's cleanup misses it
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS module_search"))


class Boom(Exception):
    """What goes wrong after the event was written."""


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def take_quiz(session, user_id: int, *, correct: bool) -> Attempt:
    attempt = attempts.start_attempt(session, user_id, QUIZ_ID, RECORDER)
    view = attempts.get_attempt(session, user_id, attempt.id, RECORDER)
    attempts.save_answers(
        session, user_id, attempt.id, responses(view.questions, correct=correct), RECORDER
    )
    return attempts.submit_attempt(session, user_id, attempt.id, RECORDER)


def test_a_failure_after_the_event_rolls_back_the_event_and_its_statement(
    imported, create_user, sessions, db_session
):
    learner = create_user("learner")
    session = sessions()
    try:
        with pytest.raises(Boom):
            try:
                progress.complete_module(
                    session,
                    learner.id,
                    COURSE_ID,
                    MODULES[0],
                    base_url=RECORDER.base_url,
                    language="fi",
                )
                assert count(session, ModuleProgress) == 1 and len(rows(session)) == 1
                raise Boom()
            except Boom:
                session.rollback()
                raise
    finally:
        session.close()
    assert count(db_session, ModuleProgress) == 0
    assert rows(db_session) == []


def test_a_failing_request_after_the_event_stores_neither(
    imported, client, logged_in, db_session, monkeypatch
):
    logged_in("learner")
    original = progress.complete_module

    def complete_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise Boom()

    monkeypatch.setattr(progress, "complete_module", complete_then_fail)
    with pytest.raises(Boom):
        post_form(
            client,
            f"/courses/{COURSE_ID}/{MODULES[0]}/complete",
            {},
            page=f"/courses/{COURSE_ID}/{MODULES[0]}",
        )
    # The page view before it committed its own event and statement; the completion did not.
    assert count(db_session, ModuleProgress) == 1
    assert db_session.scalar(select(ModuleProgress.completed_at)) is None
    assert [r.verb for r in rows(db_session)] == [v.EXPERIENCED.iri]


def test_a_failure_after_grading_keeps_the_attempt_open_and_sends_no_result(
    imported, create_user, sessions, db_session
):
    learner = create_user("learner")
    session = sessions()
    attempt_id = attempts.start_attempt(session, learner.id, QUIZ_ID, RECORDER).id
    session.commit()
    try:
        view = attempts.get_attempt(session, learner.id, attempt_id, RECORDER)
        attempts.save_answers(
            session, learner.id, attempt_id, responses(view.questions, correct=True), RECORDER
        )
        attempts.submit_attempt(session, learner.id, attempt_id, RECORDER)
        session.rollback()  # say the commit failed
    finally:
        session.close()
    assert db_session.get(Attempt, attempt_id).status is AttemptStatus.IN_PROGRESS
    assert [r.verb for r in rows(db_session)] == [v.ATTEMPTED.iri]
    assert count(db_session, CourseProgress) == 0


def test_learner_requests_make_no_network_call(
    imported, client, logged_in, db_session, monkeypatch
):
    logged_in("learner")
    calls = []

    def no_network(*args, **kwargs):
        calls.append(args)
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    viewed = client.get(f"/courses/{COURSE_ID}/{MODULES[0]}")
    completed = post_form(
        client,
        f"/courses/{COURSE_ID}/{MODULES[0]}/complete",
        {},
        page=f"/courses/{COURSE_ID}/{MODULES[0]}",
    )
    assert viewed.status_code == 200 and completed.status_code in (200, 302, 303)
    assert calls == []
    assert {(r.verb, r.status) for r in rows(db_session)} == {
        (v.EXPERIENCED.iri, OutboxStatus.PENDING),
        (v.COMPLETED.iri, OutboxStatus.PENDING),
    }


@pytest.mark.lrs
def test_every_statement_the_services_produce_is_valid_and_the_lrs_takes_it(
    imported, create_user, sessions, db_session, store, lrs_settings
):
    learner = create_user("learner")
    session = sessions()
    try:
        for module_id in MODULES:
            progress.record_view(
                session,
                learner.id,
                COURSE_ID,
                module_id,
                base_url=RECORDER.base_url,
                language="fi",
            )
            progress.complete_module(
                session,
                learner.id,
                COURSE_ID,
                module_id,
                base_url=RECORDER.base_url,
                language="sv",
            )
        failed = take_quiz(session, learner.id, correct=False).has_passed
        passed = take_quiz(session, learner.id, correct=True).has_passed
        session.commit()
    finally:
        session.close()
    assert (failed, passed) == (False, True)
    verbs = {r.verb for r in rows(db_session)}
    assert {
        v.EXPERIENCED.iri,
        v.COMPLETED.iri,
        v.ATTEMPTED.iri,
        v.ANSWERED.iri,
        v.PASSED.iri,
        v.FAILED.iri,
    } <= verbs
    assert count(db_session, CourseProgress) == 1
    for row in rows(db_session):
        assert_valid_statement(row.payload)

    report = delivery.flush(store, lrs_settings)

    assert (report.parked, report.stopped_reason) == (0, None)
    at_lrs = lrs_statements(lrs_settings.endpoint, agent=agent_of(learner.public_id))
    assert len(at_lrs) == len(rows(db_session))


def test_export_has_the_learning_records_and_erasure_keeps_them_anonymous(
    imported, create_user, sessions, db_session
):
    learner = create_user("learner")
    session = sessions()
    try:
        progress.complete_module(
            session, learner.id, COURSE_ID, MODULES[0], base_url=RECORDER.base_url, language="fi"
        )
        take_quiz(session, learner.id, correct=True)
        session.commit()
    finally:
        session.close()

    document = privacy.export_user(db_session, SYSTEM, learner.id)

    records = document["records"]
    assert {"module_progress", "quiz_attempts", "quiz_answers"} <= set(records)
    assert [r["user_id"] for r in records["quiz_attempts"]] == [learner.id]
    assert len(records["quiz_answers"]) == 3
    assert records["module_progress"][0]["completed_at"] is not None

    privacy.erase_user(db_session, SYSTEM, learner.id, base_url=RECORDER.base_url)
    db_session.commit()
    # Aggregates stay: the attempt and the progress are there, under the anonymous account.
    assert count(db_session, Attempt) == 1 and count(db_session, ModuleProgress) >= 1
    assert all(row.user_id is None for row in rows(db_session))
