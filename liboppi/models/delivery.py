"""What the xAPI sender last saw of the LRS: one row, for ``flask xapi status``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

#: The id of the single delivery-state row.
STATE_ROW_ID = 1


class DeliveryState(Base):
    """The sender's memory across runs and workers: the last error and any auth failure.

    One row (id 1). Per-statement errors stay on the outbox rows; this holds what is about
    the LRS as a whole, so that ``status`` can say "the LRS refused our credentials" even
    when every statement is still untouched.
    """

    __tablename__ = "xapi_delivery_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Set when the LRS answered 401/403; cleared by the next successful delivery.
    auth_failed_at: Mapped[datetime | None]
    auth_failure: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_delivered_at: Mapped[datetime | None]
