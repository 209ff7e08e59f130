"""Pytest fixtures for the local test LRS; conftest files import them by name.

from tests.lrs.fixtures import lrs_endpoint  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lrs.server import running_lrs


@pytest.fixture(scope="session")
def lrs_endpoint() -> Iterator[str]:
    """Yield the endpoint (``http://127.0.0.1:<port>/xAPI/``) of an LRS shared by the session."""
    with running_lrs() as endpoint:
        yield endpoint
