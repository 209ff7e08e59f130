"""Claims with ``FOR UPDATE SKIP LOCKED``: two sessions at once on PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from liboppi import clock
from liboppi.services.delivery import claim

pytestmark = pytest.mark.skipif(
    not os.environ.get("LIBOPPI_DATABASE_URL", "").startswith("postgresql"),
    reason="row locks are PostgreSQL's; SQLite serialises whole writes",
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEASE = T0 + timedelta(minutes=5)


def test_a_second_claim_skips_the_rows_an_open_claim_holds(sessions, record_views, create_user):
    clock.set_now(T0)
    ids = record_views(create_user("learner"), 6)
    first, second = sessions(), sessions()
    try:
        held = claim(first, 3, T0, LEASE)  # not committed: the rows stay locked
        second.connection().exec_driver_sql("SET lock_timeout = '2s'")
        # Without SKIP LOCKED this would wait for ``first`` and fail on the lock timeout.
        taken = claim(second, 10, T0, LEASE)
        assert [i.statement_id for i in held] == ids[:3]
        assert [i.statement_id for i in taken] == ids[3:]
        second.commit()
        first.rollback()  # the first worker died before committing: its rows are free again
        third = sessions()
        try:
            again = claim(third, 10, T0, LEASE)
            assert [i.statement_id for i in again] == ids[:3]
        finally:
            third.rollback()
            third.close()
    finally:
        first.close()
        second.close()
