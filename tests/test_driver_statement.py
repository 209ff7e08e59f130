"""``DriverStatement``: a Core statement run through the driver sends what SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Float,
    String,
    TypeDecorator,
    bindparam,
    cast,
    column,
    literal_column,
    null,
    select,
    table,
    update,
)
from sqlalchemy.exc import DBAPIError

from liboppi.database import DriverStatement
from liboppi.models import Library, User

_SIGNED_IN = DriverStatement(
    update(User)
    .where(User.id == bindparam("user_id"), User.email == bindparam("expected_email"))
    .values(display_name=bindparam("new_name"), last_login_at=bindparam("moment"))
)
# A literal LIMIT renders as "LIMIT 1 OFFSET ?" on SQLite: the compiled default fills it.
_COUNT_LIBRARIES = DriverStatement(
    update(Library)
    .where(
        Library.id
        == select(Library.id)
        .where(Library.code == bindparam("code"))
        .order_by(Library.id)
        .limit(literal_column("1"))
        .scalar_subquery()
    )
    .values(name_sv=bindparam("name_sv"))
)


def test_row_count_and_bind_processing(db_session, create_user):
    user = create_user()
    moment = datetime(2026, 11, 26, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    connection = db_session.connection()
    missed = _SIGNED_IN.rowcount(
        connection,
        {"user_id": user.id, "expected_email": "no@such", "new_name": "X", "moment": moment},
    )
    hit = _SIGNED_IN.rowcount(
        connection,
        {"user_id": user.id, "expected_email": user.email, "new_name": "Uusi", "moment": moment},
    )
    assert (missed, hit) == (0, 1)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(User, user.id)
    assert stored.display_name == "Uusi"
    # UTCDateTime's bind processor ran: the stored moment is the same instant, in UTC.
    assert stored.last_login_at == moment.astimezone(UTC)
    assert stored.last_login_at.utcoffset() == timedelta(0)


def test_compiled_defaults_are_sent(db_session, create_library):
    library = create_library()
    count = _COUNT_LIBRARIES.rowcount(
        db_session.connection(), {"code": library.code, "name_sv": "Nytt namn"}
    )
    db_session.commit()
    db_session.expire_all()
    assert count == 1
    assert db_session.get(Library, library.id).name_sv == "Nytt namn"


_USER_ROW = DriverStatement(
    select(
        User.id,
        User.created_at,
        cast(bindparam("ratio", type_=Float), Float).label("ratio"),
    ).where(User.id == bindparam("user_id"))
)


def test_rows_come_back_as_sqlalchemy_returns_them(db_session, create_user):
    user = create_user()
    connection = db_session.connection()
    expected = connection.execute(_USER_ROW.statement, {"user_id": user.id, "ratio": 0.25}).one()
    for _ in range(2):  # the second run uses the processors set up by the first
        (row,) = _USER_ROW.rows(connection, {"user_id": user.id, "ratio": 0.25})
        assert tuple(row) == tuple(expected)
        assert row.created_at.utcoffset() == timedelta(0)
        assert row.ratio == 0.25 and isinstance(row.ratio, float)
    assert _USER_ROW.rows(connection, {"user_id": user.id + 1000, "ratio": 0.5}) == []


def test_driver_errors_come_wrapped_as_sqlalchemy_does(db_session):
    missing = DriverStatement(select(column("x")).select_from(table("no_such_table")))
    with pytest.raises(DBAPIError, match="no_such_table"):
        missing.rows(db_session.connection(), {})
    db_session.rollback()


class _NoneAsText(TypeDecorator):
    """A result type that turns NULL into a value: its processor must still see every NULL."""

    impl = String
    cache_ok = True

    def process_result_value(self, value, dialect):
        return "(none)" if value is None else value


_NULLS = DriverStatement(
    select(
        User.id,
        User.last_login_at,  # UTCDateTime: NULL stays None, and is not passed through
        cast(null(), _NoneAsText).label("shown"),
    ).where(User.id == bindparam("user_id"))
)


def test_null_goes_through_a_processor_that_changes_it(db_session, create_user):
    user = create_user()
    connection = db_session.connection()
    expected = connection.execute(_NULLS.statement, {"user_id": user.id}).one()
    assert expected.last_login_at is None and expected.shown == "(none)"
    for _ in range(2):
        (row,) = _NULLS.rows(connection, {"user_id": user.id})
        assert tuple(row) == tuple(expected)
