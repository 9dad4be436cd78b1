"""Breakdowns of growth and retention by a segment column (queries/breakdown.py), against a
brute-force Python computation per segment on seeded random logs (statuses within each
segment, over its whole history), and "other" against the filter listing the other values.
Plus the segment filter's exclusions, which "other" rests on."""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict

import pytest

from queries.backends import DuckDBBackend
from queries.breakdown import OTHER, growth_breakdown, retention_breakdown, segments
from queries.errors import ParameterError
from queries.filters import SegmentFilter
from queries.growth import GrowthQuery, growth_table
from queries.periods import Grain, period_index
from queries.retention import RetentionQuery
from tests.test_engagement_sql import random_log

COUNTRIES = ["US", "DE", "FR", "BR", "IN", "JP", "GB"]


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    from app.storage import Source, load
    from tests.conftest import events_table

    rows = [(when, user, kind, revenue, platform, COUNTRIES[zlib.crc32((user + when).encode()) % 7])
            for when, user, kind, revenue, platform in random_log(3, users=60)]
    path = tmp_path_factory.mktemp("breakdown") / "log.duckdb"
    load(path, Source("log", table=events_table(rows, ("platform", "country"))))
    return DuckDBBackend(path), rows


def periods_by_user(rows, keep) -> dict[str, set[int]]:
    active = defaultdict(set)
    for when, user, _kind, _revenue, platform, country in rows:
        if keep(platform, country):
            active[user].add(period_index(dt.date.fromisoformat(when[:10]), Grain.WEEK))
    return active


def brute_growth(active: dict[str, set[int]]) -> dict[int, tuple[int, int, int, int]]:
    """Per week: (new, retained, resurrected, churned), each user's whole history."""
    counts = defaultdict(lambda: [0, 0, 0, 0])
    for periods in active.values():
        first = min(periods)
        for period in periods:
            if period == first:
                counts[period][0] += 1
            elif period - 1 in periods:
                counts[period][1] += 1
            else:
                counts[period][2] += 1
            if period + 1 not in periods:
                counts[period + 1][3] += 1
    return {period: tuple(values) for period, values in counts.items()}


def test_each_segment_is_computed_within_itself(log):
    backend, rows = log
    table = growth_breakdown(backend, GrowthQuery(Grain.WEEK), "platform")
    assert set(table["segment"]) == {"web", "ios"}  # two values: no "other"
    for platform in ("web", "ios"):
        expected = brute_growth(periods_by_user(rows, lambda p, _c, v=platform: p == v))
        for row in table[table["segment"] == platform].itertuples():
            week = period_index(row.period_start, Grain.WEEK)
            got = (row.new_users, row.retained_users, row.resurrected_users, row.churned_users)
            assert got == expected.get(week, (0, 0, 0, 0)), (platform, row.period_start)


def test_other_holds_the_values_after_the_top_five(log):
    backend, rows = log
    table = growth_breakdown(backend, GrowthQuery(Grain.WEEK), "country")
    labels = list(dict.fromkeys(table["segment"]))
    assert len(labels) == 6 and labels[-1] == OTHER
    rest = [country for country in COUNTRIES if country not in labels]
    listed = growth_table(backend, GrowthQuery(
        Grain.WEEK, segment=SegmentFilter.from_mapping({"country": rest})))
    other = table[table["segment"] == OTHER].drop(columns="segment").reset_index(drop=True)
    assert other.equals(listed)
    expected = brute_growth(periods_by_user(rows, lambda _p, c: c in rest))
    assert other["new_users"].sum() == sum(values[0] for values in expected.values())


def test_a_filtered_column_breaks_down_into_its_chosen_values(log):
    backend, _ = log
    query = GrowthQuery(Grain.WEEK, segment=SegmentFilter.from_mapping({"country": ["US",
                                                                                    "DE"]}))
    assert [label for label, _ in segments(backend, query, "country")] == ["DE", "US"]


def test_retention_triangles_per_segment(log):
    backend, rows = log
    table = retention_breakdown(backend, RetentionQuery(Grain.WEEK), "platform")
    active = periods_by_user(rows, lambda p, _c: p == "ios")
    sizes = defaultdict(int)
    for periods in active.values():
        sizes[min(periods)] += 1
    ios = table[(table["segment"] == "ios") & (table["period_index"] == 0)]
    assert {period_index(row.cohort_start, Grain.WEEK): row.cohort_size
            for row in ios.itertuples()} == dict(sizes)


def test_exclusions_leave_the_values_out_and_keep_empty_ones(make_db):
    rows = [("2024-01-01 09:00:00", "u1", "session", None, "web"),
            ("2024-01-01 09:00:00", "u2", "session", None, "ios"),
            ("2024-01-01 09:00:00", "u3", "session", None, None)]
    backend = DuckDBBackend(make_db(rows, ("platform",)))
    table = growth_table(backend, GrowthQuery(
        Grain.WEEK, segment=SegmentFilter().without_values("platform", ["web"])))
    assert table["new_users"].tolist() == [2]  # ios and the user without a platform


def test_an_unknown_column_is_refused(log):
    with pytest.raises(ParameterError, match="cannot break down by 'planet'"):
        growth_breakdown(log[0], GrowthQuery(), "planet")
