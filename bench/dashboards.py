"""Dashboards (coordinators' views): p95 ≤ 100 ms at 10,000 learners and ≤ the raw SQL floor.

The dashboards arrive with their own issue; until then this benchmark says so. When they land,
measure each aggregate a dashboard shows against the same aggregate as one raw SQL query on
the same database, seeded with 10,000 learners, in this file.
"""

from __future__ import annotations

import importlib.util

from .context import Context
from .runner import Row, Skip, register


@register("dashboards")
def dashboards(ctx: Context) -> Row:
    """Dashboard aggregates at 10,000 learners against raw SQL (when dashboards exist)."""
    if importlib.util.find_spec("liboppi.services.dashboards") is None:
        raise Skip("liboppi.services.dashboards does not exist yet")
    raise Skip("dashboards exist, but their benchmark is not written yet (bench/dashboards.py)")
