"""A request that only read ends its transaction with COMMIT on PostgreSQL (keeping psycopg's
prepared statements); one that wrote anything is rolled back as before."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from liboppi.database import end_read_only


@pytest.fixture
def new_session(app):
    sessions = []

    def make():
        session = app.extensions["liboppi.sessions"]()
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


def test_a_read_only_transaction_is_committed_on_postgresql_only(new_session):
    session = new_session()
    for _ in range(6):  # psycopg prepares a statement from its fifth execution
        session.execute(text("SELECT count(*) FROM users")).scalar()
    is_postgresql = session.get_bind().dialect.name == "postgresql"
    end_read_only(session)
    assert session.in_transaction() is not is_postgresql
    if is_postgresql:
        prepared = session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        assert prepared >= 1


def test_a_transaction_that_wrote_is_left_to_roll_back(new_session, create_library):
    library = create_library()
    name = library.name_fi
    session = new_session()
    session.execute(text("SELECT count(*) FROM users")).scalar()
    session.execute(
        text("UPDATE libraries SET name_fi = 'Muutettu' WHERE id = :id"), {"id": library.id}
    )
    end_read_only(session)
    assert session.in_transaction()
    session.close()
    other = new_session()
    found = other.execute(
        text("SELECT name_fi FROM libraries WHERE id = :id"), {"id": library.id}
    ).scalar()
    assert found == name


def test_a_with_query_is_taken_for_a_write_it_may_be(new_session):
    session = new_session()
    session.execute(text("WITH x AS (SELECT 1 AS n) SELECT n FROM x")).scalar()
    end_read_only(session)
    assert session.in_transaction()
