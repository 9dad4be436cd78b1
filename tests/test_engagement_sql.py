"""Stickiness, DAU/WAU/MAU and revenue cohorts (queries/engagement.py, queries/ltv.py): a small
log derived by hand in the comments, and seeded random logs against brute-force Python
computations written from the definitions:

- stickiness: per week or month, users by the number of distinct days of it they were active
  on, from 1 to the period's length; share = users / the period's active users;
- DAU: users active that day; WAU and MAU: distinct users active in the 7 and 28 days ending
  that day;
- revenue cohorts: a cohort is each user's first active period (whole history); a cell is the
  revenue its members brought in period cohort + k; cumulative revenue per member, and
  revenue at k over revenue at k = 0 (empty when that is 0).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict

import pytest

from queries.backends import DuckDBBackend
from queries.engagement import EngagementQuery, StickinessQuery, engagement_table, stickiness_table
from queries.errors import ParameterError
from queries.filters import SegmentFilter
from queries.ltv import LtvQuery, ltv_table
from queries.periods import Grain, period_index, period_start

D = dt.date
# Weeks of 6, 13 and 20 Jan 2025 (Mondays). The data ends on Wed 22 Jan: that week is open.
HAND = [
    ("2025-01-06 09:00:00", "u1", "session", None, "web"),
    ("2025-01-07 09:00:00", "u1", "session", None, "web"),
    ("2025-01-07 18:00:00", "u1", "purchase", 20.0, "web"),  # the same day again
    ("2025-01-09 09:00:00", "u1", "session", None, "web"),
    ("2025-01-08 09:00:00", "u2", "session", None, "ios"),
    ("2025-01-22 09:00:00", "u3", "purchase", 5.0, "ios"),
]


@pytest.fixture
def hand(make_db):
    return DuckDBBackend(make_db(HAND, ("platform",)))


def test_stickiness_by_hand(hand):
    table = stickiness_table(hand, StickinessQuery(Grain.WEEK))
    assert len(table) == 3 * 7  # every week, every count of days
    first = table[table["period_start"] == D(2025, 1, 6)].set_index("days_active")
    # u2 on one day, u1 on three (6, 7 and 9 Jan): half the week's two users each.
    assert first["users"].tolist() == [1, 0, 1, 0, 0, 0, 0]
    assert first.loc[[1, 3], "share"].tolist() == [0.5, 0.5]
    empty = table[table["period_start"] == D(2025, 1, 13)]
    assert empty["users"].sum() == 0 and empty["share"].isna().all()
    assert table.groupby("period_start")["is_complete"].first().tolist() == [True, True, False]
    ios = stickiness_table(hand, StickinessQuery(
        Grain.WEEK, segment=SegmentFilter.from_mapping({"platform": ["ios"]})))
    assert ios.loc[ios["period_start"] == D(2025, 1, 6), "users"].tolist() == [1, 0, 0, 0, 0, 0, 0]


def test_stickiness_months_have_their_own_lengths(make_db):
    rows = [("2024-02-10 09:00:00", "u1", "session"), ("2024-03-05 09:00:00", "u1", "session")]
    table = stickiness_table(DuckDBBackend(make_db(rows)), StickinessQuery(Grain.MONTH))
    assert table.groupby("period_start").size().to_dict() == {D(2024, 2, 1): 29, D(2024, 3, 1): 31}


def test_stickiness_is_per_week_or_month():
    with pytest.raises(ParameterError, match="per week or month"):
        StickinessQuery(Grain.DAY)


def test_engagement_by_hand(hand):
    table = engagement_table(hand, EngagementQuery()).set_index("day")
    assert table.index[0] == D(2025, 1, 6) and table.index[-1] == D(2025, 1, 22)
    # 9 Jan: u1 that day; in the 7 days to it, u1 and u2.
    assert table.loc[D(2025, 1, 9), ["dau", "wau", "mau"]].tolist() == [1, 2, 2]
    assert table.loc[D(2025, 1, 9), "dau_over_wau"] == 0.5
    # 15 Jan: u1's last day (9 Jan) is 6 days back, u2's (8 Jan) 7: only u1 in WAU.
    assert table.loc[D(2025, 1, 15), ["dau", "wau", "mau"]].tolist() == [0, 1, 2]
    assert table.loc[D(2025, 1, 15), "dau_over_wau"] == 0
    assert table.loc[D(2025, 1, 16), ["wau", "mau"]].tolist() == [0, 2]
    assert math.isnan(table.loc[D(2025, 1, 16), "dau_over_wau"])
    assert table.loc[D(2025, 1, 22), ["dau", "wau", "mau"]].tolist() == [1, 1, 3]


def test_revenue_cohorts_by_hand(hand):
    table = ltv_table(hand, LtvQuery(Grain.WEEK))
    first = table[table["cohort_start"] == D(2025, 1, 6)].set_index("period_index")
    # Cohort of 6 Jan: u1 and u2; u1's 20 at k = 0, nothing later.
    assert first["cohort_size"].iloc[0] == 2
    assert first["revenue"].tolist() == [20, 0, 0]
    assert first["cumulative_revenue_per_user"].tolist() == [10, 10, 10]
    assert first["revenue_retention"].tolist() == [1, 0, 0]
    assert first["is_complete"].tolist() == [True, True, False]
    last = table[table["cohort_start"] == D(2025, 1, 20)]
    assert last[["cohort_size", "revenue", "cumulative_revenue_per_user"]].values.tolist() == [
        [1, 5, 5]]


# ---- seeded random logs against brute force ----------------------------------------------


def random_log(seed: int, users: int = 40, days: int = 75):
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 3)
    rows = []
    for user in range(users):
        first = rng.randrange(days)
        for day in range(first, days):
            if rng.random() < 0.25:
                when = start + dt.timedelta(days=day, hours=rng.randrange(24))
                kind = rng.choice(["session", "session", "purchase"])
                revenue = round(rng.uniform(1, 50), 2) if kind == "purchase" else None
                rows.append((when.isoformat(sep=" "), f"u{user}", kind, revenue,
                             rng.choice(["web", "ios"])))
    return rows


@pytest.fixture(scope="module")
def random_logs(tmp_path_factory):
    from app.storage import Source, load
    from tests.conftest import events_table

    logs = {}
    for seed in (1, 2):
        rows = random_log(seed)
        path = tmp_path_factory.mktemp("engagement") / f"log{seed}.duckdb"
        load(path, Source("log", table=events_table(rows, ("platform",))))
        logs[seed] = (DuckDBBackend(path), rows)
    return logs


def active_days(rows, platform=None) -> dict[str, set[dt.date]]:
    days = defaultdict(set)
    for when, user, _kind, _revenue, where in rows:
        if platform is None or where == platform:
            days[user].add(dt.date.fromisoformat(when[:10]))
    return days


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("platform", [None, "ios"])
def test_engagement_matches_brute_force(random_logs, seed, platform):
    backend, rows = random_logs[seed]
    days = active_days(rows, platform)
    all_days = [dt.date.fromisoformat(row[0][:10]) for row in rows]
    segment = SegmentFilter.from_mapping({"platform": [platform]} if platform else {})
    table = engagement_table(backend, EngagementQuery(segment=segment))
    day = min(all_days)
    assert table["day"].tolist() == [day + dt.timedelta(n)
                                     for n in range((max(all_days) - day).days + 1)]
    for row in table.itertuples():
        def active(width, row=row):
            return sum(any(0 <= (row.day - seen).days < width for seen in user_days)
                       for user_days in days.values())
        assert (row.dau, row.wau, row.mau) == (active(1), active(7), active(28)), row.day


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("grain", [Grain.WEEK, Grain.MONTH])
def test_stickiness_matches_brute_force(random_logs, seed, grain):
    backend, rows = random_logs[seed]
    counts = defaultdict(lambda: defaultdict(int))
    for user_days in active_days(rows).values():
        by_period = defaultdict(int)
        for day in user_days:
            by_period[period_index(day, grain)] += 1
        for period, count in by_period.items():
            counts[period][count] += 1
    table = stickiness_table(backend, StickinessQuery(grain))
    for row in table.itertuples():
        period = period_index(row.period_start, grain)
        assert row.users == counts[period][row.days_active], (row.period_start, row.days_active)
    lengths = table.groupby("period_start")["days_active"].max()
    for start, length in lengths.items():
        following = period_start(period_index(start, grain) + 1, grain)
        assert length == (following - start).days


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("grain", [Grain.DAY, Grain.WEEK, Grain.MONTH])
def test_revenue_cohorts_match_brute_force(random_logs, seed, grain):
    backend, rows = random_logs[seed]
    cohort_of, revenue = {}, defaultdict(float)
    for when, user, _kind, amount, _where in sorted(rows):
        period = period_index(dt.date.fromisoformat(when[:10]), grain)
        cohort_of.setdefault(user, period)
        if amount is not None:
            revenue[(cohort_of[user], period - cohort_of[user])] += amount
    sizes = defaultdict(int)
    for cohort in cohort_of.values():
        sizes[cohort] += 1
    table = ltv_table(backend, LtvQuery(grain))
    last = period_index(max(dt.date.fromisoformat(row[0][:10]) for row in rows), grain)
    assert len(table) == sum(last - cohort + 1 for cohort in sizes)
    running = defaultdict(float)
    for row in table.itertuples():
        cohort = period_index(row.cohort_start, grain)
        expected = revenue[(cohort, row.period_index)]
        running[cohort] += expected
        assert row.cohort_size == sizes[cohort]
        assert row.revenue == pytest.approx(expected, abs=1e-9)
        assert row.cumulative_revenue_per_user == pytest.approx(running[cohort] / sizes[cohort])
        first = revenue[(cohort, 0)]
        if first == 0:
            assert math.isnan(row.revenue_retention)
        else:
            assert row.revenue_retention == pytest.approx(expected / first)
