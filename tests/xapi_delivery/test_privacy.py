"""GDPR: erasing a person voids their statements (at the LRS too) and anonymises the account."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from liboppi import clock
from liboppi.models import Membership, OutboxStatement, OutboxStatus, User
from liboppi.services import delivery, outbox, privacy
from liboppi.services.authz import SYSTEM, Principal
from liboppi.services.errors import Forbidden, NotFound
from liboppi.xapi import statements as xs
from liboppi.xapi import vocabulary as v
from tests.web_client import login
from tests.xapi_delivery.conftest import (
    BASE_URL,
    agent_of,
    assert_valid_statement,
    lrs_get,
    lrs_statements,
    rows,
)


@pytest.fixture
def people(create_user, create_library):
    library = create_library("Sodankylän kirjasto")
    learner = create_user("learner", library=library, email="elsa@kirjasto.example")
    coordinator = create_user("library_coordinator", library=library)
    return learner, coordinator


def assign_plan(sessions, coordinator: User, learner: User) -> str:
    """The coordinator assigns a plan to the learner: a statement that names the learner."""
    session = sessions()
    try:
        origin, library_id = outbox.origin_for(session, coordinator.id, base_url=BASE_URL)
        plan = xs.Content("perehdytys-2026", {"fi": "Perehdytys 2026"})
        statement = xs.plan_assigned(origin, plan, learner.public_id)
        outbox.enqueue(session, statement, user_id=coordinator.id, library_id=library_id)
        session.commit()
        return statement.id
    finally:
        session.close()


def voided_ids(session) -> dict[str, OutboxStatement]:
    """Voiding statements in the outbox, by the id of the statement each one voids."""
    found = {}
    for row in rows(session):
        data = json.loads(row.payload)
        if data["verb"]["id"] == v.VOIDED.iri:
            found[data["object"]["id"]] = row
    return found


def test_erasure_voids_every_statement_about_the_person_and_anonymises_the_account(
    store, sessions, record_views, people, db_session
):
    learner, coordinator = people
    old_public_id = learner.public_id
    delivered = record_views(learner, 2)
    for item in store.claim_batch(10, clock.now()):
        store.mark_delivered([item.id])
    pending = record_views(learner, 1)
    parked = record_views(learner, 1)
    item = store.claim_batch(10, clock.now())
    store.mark_parked(item[-1].id, "refused")
    store.release([i.id for i in item[:-1]])
    assignment = assign_plan(sessions, coordinator, learner)
    coordinators_own = record_views(coordinator, 1)

    report = privacy.erase_user(db_session, SYSTEM, learner.id, base_url=BASE_URL)
    db_session.commit()

    assert (report.voided, report.withdrawn, report.deleted_parked) == (4, 2, 1)
    voiding = voided_ids(db_session)
    assert set(voiding) == {*delivered, *pending, assignment}
    remaining = {r.statement_id for r in rows(db_session)} - {
        r.statement_id for r in voiding.values()
    }
    assert remaining == set(coordinators_own)  # nothing about the learner is kept
    assert parked[0] not in voiding
    for row in voiding.values():
        data = assert_valid_statement(row.payload)
        assert data["actor"]["account"] == {"homePage": BASE_URL, "name": privacy.SERVICE_ACCOUNT}
        assert old_public_id.encode() not in row.payload and b"elsa" not in row.payload
        assert row.user_id is None and row.status == OutboxStatus.PENDING

    db_session.expire_all()
    user = db_session.get(User, learner.id)
    assert user.email == f"erased-{learner.id}@erased.invalid"
    assert user.display_name == privacy.ERASED_NAME
    assert user.password_hash is None and not user.is_active
    assert user.public_id != old_public_id
    # Aggregates stay: the row and its role in the library.
    memberships = db_session.scalars(select(Membership).where(Membership.user_id == learner.id))
    assert [m.role.value for m in memberships] == ["learner"]


def test_an_erased_person_cannot_sign_in(client, store, record_views, people, db_session):
    learner, _ = people
    privacy.erase_user(db_session, SYSTEM, learner.id, base_url=BASE_URL)
    db_session.commit()
    assert login(client, "elsa@kirjasto.example").status_code != 302


def test_only_an_administrator_erases_and_nobody_twice(people, db_session):
    learner, coordinator = people
    coordinator_principal = Principal(coordinator.id)
    with pytest.raises(Forbidden):
        privacy.erase_user(db_session, coordinator_principal, learner.id, base_url=BASE_URL)
    privacy.erase_user(db_session, SYSTEM, learner.id, base_url=BASE_URL)
    with pytest.raises(NotFound):
        privacy.erase_user(db_session, SYSTEM, learner.id, base_url=BASE_URL)


@pytest.mark.lrs
def test_erasure_voids_the_statements_at_the_lrs(
    store, lrs_settings, record_views, people, db_session
):
    learner, _ = people
    ids = record_views(learner, 3)
    assert delivery.flush(store, lrs_settings).delivered == 3
    agent = agent_of(learner.public_id)
    assert len(lrs_statements(lrs_settings.endpoint, agent=agent)) == 3

    privacy.erase_user(db_session, SYSTEM, learner.id, base_url=BASE_URL)
    db_session.commit()
    assert delivery.flush(store, lrs_settings).delivered == 3

    # Only the voiding statements still match the agent (xAPI's StatementRef filter rule),
    # and they name the service account, not the person.
    remaining = lrs_statements(lrs_settings.endpoint, agent=agent)
    assert sorted(s["object"]["id"] for s in remaining) == sorted(ids)
    assert {s["actor"]["account"]["name"] for s in remaining} == {privacy.SERVICE_ACCOUNT}
    for statement_id in ids:
        assert lrs_get(lrs_settings.endpoint, statementId=statement_id)[0] == 404
        assert lrs_get(lrs_settings.endpoint, voidedStatementId=statement_id)[0] == 200


def test_export_holds_the_account_memberships_and_statements(record_views, people, db_session):
    learner, coordinator = people
    ids = record_views(learner, 2)
    record_views(coordinator, 1)

    document = privacy.export_user(db_session, SYSTEM, learner.id)

    json.dumps(document)  # JSON-ready as it is
    assert document["format"] == privacy.EXPORT_FORMAT
    assert document["user"]["email"] == "elsa@kirjasto.example"
    assert "password_hash" not in document["user"]
    assert [m["role"] for m in document["memberships"]] == ["learner"]
    assert document["memberships"][0]["library_name"] == "Sodankylän kirjasto"
    assert [s["statement"]["id"] for s in document["statements"]] == ids
    assert {s["status"] for s in document["statements"]} == {"pending"}


def test_a_person_may_export_themselves_but_not_others(people, db_session):
    learner, coordinator = people
    assert privacy.export_user(db_session, Principal(learner.id), learner.id)["user"]["id"] == (
        learner.id
    )
    with pytest.raises(Forbidden):
        privacy.export_user(db_session, Principal(learner.id), coordinator.id)
