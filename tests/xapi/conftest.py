"""Fixtures for liboppi.xapi tests; the shared LRS fixture comes from tests/lrs."""

from __future__ import annotations

import pytest

from tests.lrs.fixtures import lrs_endpoint  # noqa: F401
from tests.xapi.examples import FakeClock
from tests.xapi.memory_outbox import MemoryOutbox


@pytest.fixture
def clock() -> FakeClock:
    """Return a settable clock at the example event time."""
    return FakeClock()


@pytest.fixture
def outbox() -> MemoryOutbox:
    """Return an empty in-memory outbox."""
    return MemoryOutbox()
