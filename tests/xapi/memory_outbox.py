"""An in-memory OutboxStore for the sender's tests (the real one lives in services, on SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from liboppi.xapi.sender import OutboxItem
from liboppi.xapi.statements import Statement, serialise


@dataclass
class Row:
    """One outbox row and everything the sender did to it."""

    id: int
    statement_id: str
    payload: bytes
    next_attempt_at: datetime
    attempts: int = 0
    state: str = "pending"  # pending, claimed, delivered, parked
    error: str | None = None
    parked_message: str | None = None


class MemoryOutbox:
    """Outbox rows in a dict; implements liboppi.xapi.sender.OutboxStore."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.auth_failures: list[str] = []
        self.calls: list[str] = []

    def add(self, statement: Statement, now: datetime) -> Row:
        """Queue a built statement, as the services layer does in the event's transaction."""
        return self.add_bytes(statement.id, serialise(statement), now)

    def add_bytes(self, statement_id: str, payload: bytes, now: datetime) -> Row:
        """Queue raw bytes (to plant an invalid statement)."""
        row = Row(len(self.rows) + 1, statement_id, payload, next_attempt_at=now)
        self.rows[row.id] = row
        return row

    def in_state(self, state: str) -> list[Row]:
        """Return the rows in one state, in id order."""
        return [row for row in self.rows.values() if row.state == state]

    # OutboxStore

    def claim_batch(
        self, limit: int, now: datetime, *, delivered: Sequence[int] = ()
    ) -> list[OutboxItem]:
        if delivered:
            self.mark_delivered(delivered)
        self.calls.append("claim_batch")
        due = [r for r in self.in_state("pending") if r.next_attempt_at <= now][:limit]
        for row in due:
            row.state = "claimed"
        return [OutboxItem(r.id, r.statement_id, r.payload, r.attempts) for r in due]

    def mark_delivered(self, ids: Sequence[int]) -> None:
        self.calls.append("mark_delivered")
        for row_id in ids:
            self._claimed(row_id).state = "delivered"

    def mark_parked(self, id: int, message: str) -> None:
        self.calls.append("mark_parked")
        row = self._claimed(id)
        row.state, row.parked_message = "parked", message

    def mark_retry(self, ids: Sequence[int], next_attempt_at: datetime, error: str) -> None:
        self.calls.append("mark_retry")
        for row_id in ids:
            row = self._claimed(row_id)
            row.state, row.next_attempt_at, row.error = "pending", next_attempt_at, error
            row.attempts += 1

    def release(self, ids: Sequence[int]) -> None:
        self.calls.append("release")
        for row_id in ids:
            self._claimed(row_id).state = "pending"

    def record_auth_failure(self, message: str) -> None:
        self.calls.append("record_auth_failure")
        self.auth_failures.append(message)

    def _claimed(self, row_id: int) -> Row:
        row = self.rows[row_id]
        assert row.state == "claimed", f"row {row_id} is {row.state}, not claimed"
        return row
