"""Growth accounting SQL on small hand-made logs; expected rows are derived by hand in comments,
and a second, brute-force method in pandas checks the demo data at every grain."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from app.demo import generate_demo
from queries.backends import DuckDBBackend
from queries.errors import ParameterError
from queries.filters import FilterError, SegmentFilter
from queries.growth import COLUMNS, GrowthQuery, growth_table
from queries.periods import Grain

D = dt.date
NA = None


def rows_of(table: pd.DataFrame) -> list[tuple]:
    """Rows as plain tuples, rates rounded to 12 places and undefined rates as None."""
    out = []
    for row in table.itertuples(index=False):
        values = []
        for value in row:
            if isinstance(value, float):
                value = None if pd.isna(value) else round(value, 12)
            values.append(value)
        out.append(tuple(values))
    return out


def growth(path, grain, start=None, end=None, **filters) -> list[tuple]:
    query = GrowthQuery(Grain(grain), start, end, SegmentFilter.from_mapping(filters))
    return rows_of(growth_table(DuckDBBackend(path), query))


# u1: Mon 1 Jan, Sun 7 Jan 23:59, Mon 8 Jan 00:00, Sun 4 Feb; u2: 3 Jan, then 1 Feb (a
# long gap); u3: 10 Jan only. ISO weeks: W1 = 1 Jan, W2 = 8 Jan, W3 = 15 Jan, W4 = 22 Jan,
# W5 = 29 Jan. Active weeks: u1 {W1, W2, W5}, u2 {W1, W5}, u3 {W2}.
GAPS = [
    ("2024-01-01 09:00:00", "u1", "session"),
    ("2024-01-07 23:59:00", "u1", "session"),
    ("2024-01-08 00:00:00", "u1", "session"),
    ("2024-01-03 12:00:00", "u2", "session"),
    ("2024-01-10 12:00:00", "u3", "session"),
    ("2024-02-01 12:00:00", "u2", "purchase", 20.0),
    ("2024-02-04 18:00:00", "u1", "session"),
]

# Columns: period_start, new, retained, resurrected, churned, active, retention_rate,
# quick_ratio, is_complete.
GAPS_WEEKLY = [
    # W1: u1, u2 new.
    (D(2024, 1, 1), 2, 0, 0, 0, 2, NA, NA, True),
    # W2: u1 retained (Sunday 23:59 and Monday 00:00 are different weeks), u3 new, u2
    # churned. Retention 1/2, quick ratio (1 + 0) / 1.
    (D(2024, 1, 8), 1, 1, 0, 1, 2, 0.5, 1.0, True),
    # W3: nobody active; u1 and u3 churn. Retention 0/2, quick ratio 0/2.
    (D(2024, 1, 15), 0, 0, 0, 2, 0, 0.0, 0.0, True),
    # W4: empty, and nobody left to churn: both rates undefined.
    (D(2024, 1, 22), 0, 0, 0, 0, 0, NA, NA, True),
    # W5: u1 and u2 come back; the data ends on Sunday 4 Feb, so the week is complete.
    (D(2024, 1, 29), 0, 0, 2, 0, 2, NA, NA, True),
]


def test_weekly_gaps_resurrection_and_empty_weeks(make_db):
    assert growth(make_db(GAPS), "week") == GAPS_WEEKLY


def test_monthly_statuses_and_incomplete_last_month(make_db):
    # January: u1, u2, u3 new. February (data ends on the 4th, so incomplete): u1, u2
    # retained, u3 churned; retention 2/3, quick ratio 0/1.
    assert growth(make_db(GAPS), "month") == [
        (D(2024, 1, 1), 3, 0, 0, 0, 3, NA, NA, True),
        (D(2024, 2, 1), 0, 2, 0, 1, 2, round(2 / 3, 12), 0.0, False),
    ]


def test_daily_sunday_then_monday(make_db):
    by_day = {row[0]: row for row in growth(make_db(GAPS), "day")}
    # 35 calendar days from 1 Jan to 4 Feb, empty ones included.
    assert len(by_day) == 35
    # Sunday 7 Jan: u1 was last active on 1 Jan, so resurrected; Monday 8 Jan: retained.
    assert by_day[D(2024, 1, 7)][1:6] == (0, 0, 1, 0, 1)
    assert by_day[D(2024, 1, 8)][1:6] == (0, 1, 0, 0, 1)
    # Tuesday 9 Jan: u1 churns; nobody active.
    assert by_day[D(2024, 1, 9)][1:6] == (0, 0, 0, 1, 0)
    assert all(row[-1] for row in by_day.values())


def test_date_range_keeps_full_history_statuses(make_db):
    path = make_db(GAPS)
    window = growth(path, "week", D(2024, 1, 15), D(2024, 2, 4))
    # Same rows as the unfiltered table: u2 in W5 is resurrected, not new, although the
    # window starts after their first activity.
    assert window == GAPS_WEEKLY[2:]
    # A start inside a week selects that whole week (labelled by its Monday).
    assert growth(path, "week", D(2024, 1, 10), D(2024, 1, 10)) == GAPS_WEEKLY[1:2]


def test_month_ends_and_leap_day(make_db):
    rows = [
        ("2024-01-31 23:59:59", "u1", "session"),
        ("2024-02-01 00:00:00", "u2", "session"),
        ("2024-02-29 12:00:00", "u3", "session"),
        ("2024-03-31 08:00:00", "u1", "session"),
    ]
    assert growth(make_db(rows), "month") == [
        # January: u1 new.
        (D(2024, 1, 1), 1, 0, 0, 0, 1, NA, NA, True),
        # February: u2, u3 new (1 Feb 00:00 and the leap day), u1 churned:
        # retention 0/1, quick ratio 2/1.
        (D(2024, 2, 1), 2, 0, 0, 1, 2, 0.0, 2.0, True),
        # March: u1 resurrected, u2 and u3 churned: retention 0/2, quick ratio 1/2.
        # The data ends on 31 March, so March is complete.
        (D(2024, 3, 1), 0, 0, 1, 2, 1, 0.0, 0.5, True),
    ]


def test_single_user(make_db):
    path = make_db([("2024-05-15 10:00:00", "only", "session")])
    assert growth(path, "day") == [(D(2024, 5, 15), 1, 0, 0, 0, 1, NA, NA, True)]
    # Wednesday: the week is not over, so it is incomplete.
    assert growth(path, "week") == [(D(2024, 5, 13), 1, 0, 0, 0, 1, NA, NA, False)]


SEGMENTED = [
    # (time, user, type, revenue, platform)
    ("2024-01-01 10:00:00", "u1", "session", None, "web"),
    ("2024-01-02 10:00:00", "u2", "session", None, "ios"),
    ("2024-01-09 10:00:00", "u1", "session", None, "ios"),
    ("2024-01-09 11:00:00", "u1", "purchase", 10.0, "ios"),
    ("2024-01-14 10:00:00", "u2", "session", None, "web"),
]


def test_segment_filter_applies_before_statuses(make_db):
    path = make_db(SEGMENTED, segment_columns=("platform",))
    # iOS activity only: u2 in W1; u1 in W2 (their first iOS activity, so new there); u2 has
    # no iOS activity in W2 and churns. Data ends Sunday 14 Jan: both weeks complete.
    assert growth(path, "week", platform=["ios"]) == [
        (D(2024, 1, 1), 1, 0, 0, 0, 1, NA, NA, True),
        (D(2024, 1, 8), 1, 0, 0, 1, 1, 0.0, 1.0, True),
    ]
    # Either platform is everything: u1, u2 new in W1 and both retained in W2.
    assert growth(path, "week", platform=["ios", "web"]) == [
        (D(2024, 1, 1), 2, 0, 0, 0, 2, NA, NA, True),
        (D(2024, 1, 8), 0, 2, 0, 0, 2, 1.0, NA, True),
    ]


def test_activity_event_filter(make_db):
    path = make_db(SEGMENTED, segment_columns=("platform",))
    # Only purchases count: u1 in W2 is the first and only purchaser. The calendar still runs
    # to the data's last period.
    assert growth(path, "week", event_type=["purchase"]) == [
        (D(2024, 1, 8), 1, 0, 0, 0, 1, NA, NA, True),
    ]


def test_filter_on_unknown_column_is_refused(make_db):
    path = make_db(SEGMENTED, segment_columns=("platform",))
    with pytest.raises(FilterError, match="nosuch"):
        growth(path, "week", nosuch=["x"])


def test_start_after_end_is_a_parameter_error():
    with pytest.raises(ParameterError, match="after"):
        GrowthQuery(Grain.WEEK, D(2024, 2, 1), D(2024, 1, 1))


def reference_growth(events: pd.DataFrame, grain: str, data_end: dt.date) -> pd.DataFrame:
    """Growth accounting by brute force over Python sets, independent of the SQL."""
    freq = {"day": "D", "week": "W-SUN", "month": "M"}[grain]
    periods = events["event_time"].dt.to_period(freq)
    active = periods.groupby(events["user_id"]).agg(set).to_dict()
    users_by_period: dict = {}
    for user, user_periods in active.items():
        for period in user_periods:
            users_by_period.setdefault(period, set()).add(user)
    last = pd.Timestamp(data_end).to_period(freq)
    calendar = pd.period_range(min(users_by_period), last, freq=freq)
    rows, seen = [], set()
    for index, period in enumerate(calendar):
        now = users_by_period.get(period, set())
        before = users_by_period.get(calendar[index - 1], set()) if index else set()
        new, retained = now - seen, now & before
        resurrected = (now - before) & seen
        churned = before - now
        rows.append({
            "period_start": period.start_time.date(),
            "new_users": len(new), "retained_users": len(retained),
            "resurrected_users": len(resurrected), "churned_users": len(churned),
            "active_users": len(now),
            "retention_rate": len(retained) / len(before) if before else None,
            "quick_ratio": (len(new) + len(resurrected)) / len(churned) if churned else None,
            "is_complete": period.end_time.date() <= data_end,
        })
        seen |= now
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from app.storage import Source, load

    data = generate_demo(users=1500, seed=3, end_date=D(2025, 6, 18))
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    load(path, Source("demo-events", table=data.events))
    return path, data.events.to_pandas()


@pytest.mark.parametrize("grain", ["day", "week", "month"])
@pytest.mark.parametrize("platform", [None, "ios"])
def test_matches_brute_force_on_demo_data(demo_db, grain, platform):
    path, events = demo_db
    data_end = events["event_time"].max().date()
    expected_events = events if platform is None else events[events["platform"] == platform]
    expected = reference_growth(expected_events, grain, data_end)
    filters = {"platform": [platform]} if platform else {}
    assert growth(path, grain, **filters) == rows_of(expected)


def test_window_equals_matching_rows_of_unfiltered(demo_db):
    path, _ = demo_db
    full = growth(path, "week")
    window = growth(path, "week", D(2025, 1, 6), D(2025, 3, 30))
    assert window == [row for row in full if D(2025, 1, 6) <= row[0] <= D(2025, 3, 24)]
    assert len(window) == 12
