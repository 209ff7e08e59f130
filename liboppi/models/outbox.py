"""The xAPI outbox: one row per statement, written in the same transaction as its event."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class OutboxStatus(enum.StrEnum):
    """Where a statement is on its way to the Learning Record Store."""

    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"


class OutboxStatement(Base):
    """An xAPI statement as serialised once: every resend sends exactly these bytes."""

    __tablename__ = "outbox_statements"
    __table_args__ = (Index("ix_outbox_statements_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    verb: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
