"""A settable clock: code asks ``clock.now()`` and tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at ``moment`` (aware), or unfreeze it with ``None``."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock takes timezone-aware datetimes only")
    _frozen = moment


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward and return the new time."""
    global _frozen
    _frozen = now() + delta
    return _frozen
