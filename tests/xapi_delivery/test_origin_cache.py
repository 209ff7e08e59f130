"""The cached statement origin: fast when right, and never stored wrong when another process
changed the user's library or the library's naming."""

from __future__ import annotations

import json

from sqlalchemy import Engine, insert, select, update

from liboppi import clock
from liboppi.models import Library, Membership, OutboxStatement, Role, User
from liboppi.services import outbox
from liboppi.xapi import statements as xs
from liboppi.xapi import vocabulary as v
from tests.xapi_delivery.conftest import BASE_URL, COURSE, assert_valid_statement, rows

MODULE = xs.Content("moduuli-1", {"fi": "Moduuli 1"})


def record_view(session, user: User) -> xs.Statement:
    origin, library_id = outbox.origin_for(session, user.id, base_url=BASE_URL)
    statement = xs.module_experienced(origin, COURSE, MODULE)
    outbox.enqueue(session, statement, user_id=user.id, library_id=library_id)
    return statement


def move(engine: Engine, user: User, library: Library) -> None:
    """End the user's current library membership and start one in ``library``."""
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(
            update(Membership)
            .where(Membership.user_id == user.id, Membership.left_at.is_(None))
            .values(left_at=now)
        )
        conn.execute(
            insert(Membership).values(
                user_id=user.id, library_id=library.id, role=Role.LEARNER, joined_at=now
            )
        )


def grouping_library(payload: bytes) -> tuple[str, dict[str, str], str]:
    """The library activity id, its name and the library extension of a stored statement."""
    data = assert_valid_statement(payload)
    context = data["context"]
    [library] = [
        activity
        for activity in context["contextActivities"]["grouping"]
        if activity["definition"]["type"] == v.ORGANIZATION_TYPE
    ]
    extension = context["extensions"][f"{BASE_URL}/xapi/extensions/{v.LIBRARY_ID_EXTENSION}"]
    return library["id"], library["definition"]["name"], extension


def test_a_cached_origin_costs_no_query_and_one_insert(
    sessions, create_user, statements_run
) -> None:
    user = create_user()
    session = sessions()
    try:
        record_view(session, user)
        session.commit()
        statements_run.clear()
        record_view(session, user)
        session.commit()
    finally:
        session.close()
    assert [s for s in statements_run if s != "BEGIN"] == ["INSERT"]


def test_user_moved_by_another_process_is_stored_with_the_new_library(
    sessions, db_session, create_user, create_library, other_process, monkeypatch
) -> None:
    rebuilt: list[str] = []
    original = xs.with_origin

    def with_origin(statement, old, new):
        rebuilt.append(statement.id)
        return original(statement, old, new)

    monkeypatch.setattr(outbox.xs, "with_origin", with_origin)
    home, new_home = create_library("Kittilän kirjasto"), create_library("Sallan kirjasto")
    user = create_user(library=home)
    session = sessions()
    try:
        record_view(session, user)
        session.commit()
        move(other_process, user, new_home)
        # The cache still says "home"; the statement must not.
        origin, library_id = outbox.origin_for(session, user.id, base_url=BASE_URL)
        first, second = (xs.module_experienced(origin, COURSE, MODULE) for _ in range(2))
        for statement in (first, second):  # both from the same stale origin
            outbox.enqueue(session, statement, user_id=user.id, library_id=library_id)
        session.commit()
    finally:
        session.close()
    stored = rows(db_session)
    assert [row.statement_id for row in stored[1:]] == [first.id, second.id] == rebuilt
    for row, built in zip(stored[1:], (first, second), strict=True):
        assert row.library_id == new_home.id
        library_iri, name, code = grouping_library(row.payload)
        assert code == new_home.code and library_iri.endswith(f"/{new_home.code}")
        assert name == {"fi": "Sallan kirjasto"}
        # Rebuilt, not rebuilt anew: the id and timestamp of the event stay.
        data = json.loads(row.payload)
        assert (data["id"], data["timestamp"]) == (built.id, built.timestamp)
    assert grouping_library(stored[0].payload)[2] == home.code


def test_library_renamed_by_another_process_is_stored_with_the_new_name(
    sessions, db_session, create_user, create_library, other_process
) -> None:
    library = create_library("Vanha nimi")
    user = create_user(library=library)
    session = sessions()
    try:
        record_view(session, user)
        session.commit()
        with other_process.begin() as conn:
            conn.execute(
                update(Library)
                .where(Library.id == library.id)
                .values(name_fi="Uusi nimi", name_sv="Nytt namn")
            )
        record_view(session, user)
        session.commit()
    finally:
        session.close()
    _, name, _ = grouping_library(rows(db_session)[-1].payload)
    assert name == {"fi": "Uusi nimi", "sv": "Nytt namn"}


def test_library_renamed_by_another_process_is_right_for_a_user_not_cached_yet(
    sessions, db_session, create_user, create_library, other_process
) -> None:
    library = create_library("Vanha nimi")
    first, second = create_user(library=library), create_user(library=library)
    session = sessions()
    try:
        record_view(session, first)  # caches the library's naming
        session.commit()
        with other_process.begin() as conn:
            conn.execute(update(Library).where(Library.id == library.id).values(name_fi="Uusi"))
        record_view(session, second)
        session.commit()
    finally:
        session.close()
    _, name, _ = grouping_library(rows(db_session)[-1].payload)
    assert name == {"fi": "Uusi"}


def test_user_left_every_library_is_grouped_by_region(
    sessions, db_session, create_user, create_library, other_process
) -> None:
    user = create_user(library=create_library())
    session = sessions()
    try:
        record_view(session, user)
        session.commit()
        with other_process.begin() as conn:
            conn.execute(
                update(Membership).where(Membership.user_id == user.id).values(left_at=clock.now())
            )
        record_view(session, user)
        session.commit()
    finally:
        session.close()
    last = rows(db_session)[-1]
    assert last.library_id is None
    assert grouping_library(last.payload)[2].startswith("region-")


def test_a_change_flushed_in_this_process_drops_the_cache_entry(
    sessions, create_user, create_library, statements_run
) -> None:
    user = create_user(library=create_library())
    new_home = create_library()
    session = sessions()
    try:
        record_view(session, user)
        session.commit()
        membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
        membership.library_id = new_home.id
        session.flush()
        statements_run.clear()
        origin, library_id = outbox.origin_for(session, user.id, base_url=BASE_URL)
        assert library_id == new_home.id and origin.library.id == new_home.code
        assert "SELECT" in statements_run  # read again, not taken from the cache
        session.commit()
    finally:
        session.close()


def test_the_statement_is_rolled_back_with_the_event(sessions, db_session, create_user) -> None:
    user = create_user()
    session = sessions()
    try:
        record_view(session, user)
        session.rollback()
    finally:
        session.close()
    assert db_session.scalar(select(OutboxStatement.id)) is None
