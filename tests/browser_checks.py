"""What browser tests expect on the page, computed apart from it, and how they read it. (Plain
helpers: the fixtures are in tests/browser_support.py, loaded as a pytest plugin.)"""

from __future__ import annotations

import datetime as dt

from queries.backends import DuckDBBackend
from queries.filters import SegmentFilter
from queries.growth import GrowthQuery, growth_table
from queries.periods import Grain


def expected_kpis(db, grain: Grain, start=None, end=None,
                  segment: SegmentFilter | None = None) -> tuple[dt.date, int]:
    """The latest complete period and its new users, computed apart from the page."""
    table = growth_table(DuckDBBackend(db), GrowthQuery(grain, start, end,
                                                        segment or SegmentFilter()))
    latest = table[table["is_complete"]].iloc[-1]
    return latest["period_start"], int(latest["new_users"])


def kpi_text(page, metric: str) -> str:
    return page.inner_text(f"[id='{{\"metric\":\"{metric}\",\"type\":\"kpi-card\"}}']")
