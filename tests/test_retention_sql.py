"""Retention SQL on small hand-made logs; expected cells are derived by hand in comments, and
a second, brute-force method over Python sets checks the demo data at every grain and mode.

Definitions (queries/retention.py): a user's cohort is their first period with a start event
(any event by default), over the whole history; period_index k counts periods since it.
Exact mode: retained(c, k) = members with a return event in period c + k; unbounded mode:
in c + k or any later period. Cells run from k = 0 to the period holding the data's last
day; a cell is incomplete when its period c + k ends after that day. A date range keeps the
cohorts whose period starts inside it. Weeks start on Monday.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter, defaultdict

import pandas as pd
import pytest

from app.demo import generate_demo
from app.storage import Source, load
from queries.backends import DuckDBBackend
from queries.errors import ParameterError
from queries.filters import FilterError, SegmentFilter
from queries.growth import GrowthQuery, growth_table
from queries.periods import Grain
from queries.retention import (
    COLUMNS,
    RetentionMode,
    RetentionQuery,
    retention_table,
    weighted_average,
    wide,
)
from tests.conftest import log_databases

D = dt.date
T, F = True, False


def rows_of(table: pd.DataFrame) -> list[tuple]:
    """Rows as plain Python tuples (numpy scalars unwrapped)."""
    return [
        tuple(value.item() if hasattr(value, "item") else value for value in row)
        for row in table.itertuples(index=False)
    ]


def retention(
    path, grain="week", mode="exact", start=None, end=None, start_events=None,
    return_events=None, **filters,
) -> list[tuple]:
    query = RetentionQuery(
        grain=Grain(grain), start=start, end=end, segment=SegmentFilter.from_mapping(filters),
        mode=RetentionMode(mode), start_events=start_events, return_events=return_events,
    )
    table = retention_table(DuckDBBackend(path), query)
    assert list(table.columns) == COLUMNS
    return rows_of(table)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """Each hand-made log below, loaded once per module through the real loader (as conftest's
    make_db does): db("WEEKLY") is the path of the DuckDB file holding WEEKLY."""
    return log_databases(tmp_path_factory.mktemp("retention"), LOGS)


def cells(cohort: dt.date, size: int, retained: list[int], complete: list[bool]) -> list[tuple]:
    """One cohort's row of the triangle: (cohort_start, size, k, retained, rate, complete)."""
    assert len(retained) == len(complete)
    return [
        (cohort, size, k, users, users / size, flag)
        for k, (users, flag) in enumerate(zip(retained, complete, strict=True))
    ]


# Weeks: W1 = Mon 1 Jan 2024, W2 = 8 Jan, W3 = 15 Jan, W4 = 22 Jan, W5 = 29 Jan. The data
# ends Wednesday 31 Jan, so W5 (to Sunday 4 Feb) is the incomplete last period.
WEEKLY = [
    ("2024-01-01 09:00:00", "u1", "session"),
    ("2024-01-07 23:59:00", "u1", "session"),
    ("2024-01-08 00:00:00", "u1", "session"),
    ("2024-01-31 10:00:00", "u1", "session"),
    ("2024-01-03 12:00:00", "u2", "session"),
    ("2024-01-23 12:00:00", "u2", "purchase", 9.5),
    ("2024-01-07 23:59:59", "u3", "session"),
    ("2024-01-08 00:00:00", "u4", "session"),
    ("2024-01-16 08:00:00", "u4", "session"),
    ("2024-01-20 08:00:00", "u5", "session"),
    ("2024-01-30 08:00:00", "u5", "session"),
    ("2024-01-31 23:59:59", "u6", "session"),
]
# Active weeks: u1 {W1, W2, W5} (Sunday 23:59 is W1, Monday 00:00 is W2); u2 {W1, W4};
# u3 {W1} (Sunday 23:59:59); u4 {W2, W3} (Monday 00:00:00); u5 {W3, W5}; u6 {W5}.
# Cohorts (first week): W1 {u1, u2, u3}; W2 {u4}; W3 {u5}; W4 none (no row); W5 {u6}.
# Cells run to W5: W1 k = 0..4, W2 k = 0..3, W3 k = 0..2, W5 k = 0; W5 cells incomplete.
WEEKLY_EXACT = [
    # W1: k0 all 3; k1 = W2: u1; k2 = W3: nobody; k3 = W4: u2; k4 = W5: u1 (incomplete).
    *cells(D(2024, 1, 1), 3, [3, 1, 0, 1, 1], [T, T, T, T, F]),
    # W2: k0 u4; k1 = W3: u4; k2 = W4, k3 = W5: nobody (empty cells still listed).
    *cells(D(2024, 1, 8), 1, [1, 1, 0, 0], [T, T, T, F]),
    # W3: k0 u5; k1 = W4: nobody; k2 = W5: u5.
    *cells(D(2024, 1, 15), 1, [1, 0, 1], [T, T, F]),
    # W5: k0 u6, incomplete.
    *cells(D(2024, 1, 29), 1, [1], [F]),
]
WEEKLY_UNBOUNDED = [
    # W1: k1 = W2 or later: u1 (W2, W5), u2 (W4) -> 2; k2 = W3 or later: u1 (W5), u2 (W4)
    # -> 2; k3 = W4 or later: u1, u2 -> 2; k4 = W5: u1 -> 1. u3 never returns.
    *cells(D(2024, 1, 1), 3, [3, 2, 2, 2, 1], [T, T, T, T, F]),
    # W2: u4 last active W3 -> k1 = 1, then 0.
    *cells(D(2024, 1, 8), 1, [1, 1, 0, 0], [T, T, T, F]),
    # W3: u5 active W5 -> W4 or later counts it too: k1 = 1 although W4 is empty.
    *cells(D(2024, 1, 15), 1, [1, 1, 1], [T, T, F]),
    *cells(D(2024, 1, 29), 1, [1], [F]),
]


def test_weekly_exact_mode(db):
    assert retention(db("WEEKLY"), "week", "exact") == WEEKLY_EXACT


def test_weekly_unbounded_mode(db):
    assert retention(db("WEEKLY"), "week", "unbounded") == WEEKLY_UNBOUNDED


def test_exact_is_the_default_mode_and_unbounded_never_below_exact(db):
    path = db("WEEKLY")
    query = RetentionQuery(grain=Grain.WEEK)
    assert query.mode is RetentionMode.EXACT
    assert rows_of(retention_table(DuckDBBackend(path), query)) == WEEKLY_EXACT
    for exact, unbounded in zip(WEEKLY_EXACT, WEEKLY_UNBOUNDED, strict=True):
        assert exact[:3] == unbounded[:3] and exact[3] <= unbounded[3]


def test_unknown_mode_is_a_parameter_error():
    with pytest.raises(ParameterError, match="'sometimes'"):
        RetentionMode.parse("sometimes")


def test_incomplete_flag_only_on_the_last_period(db):
    rows = retention(db("WEEKLY"), "week")
    # Exactly the cells whose period c + k is W5 (29 Jan) are incomplete.
    for cohort, _, k, *_, complete in rows:
        assert complete == (cohort + dt.timedelta(weeks=k) != D(2024, 1, 29))
    # By month the data ends on 31 January, the month's last day: one cohort of all six
    # users, complete.
    assert retention(db("WEEKLY"), "month") == cells(D(2024, 1, 1), 6, [6], [T])


def test_week_boundary_sunday_night_and_monday_midnight(make_db):
    rows = [
        ("2024-01-07 23:59:59", "x", "session"),  # Sunday: W1
        ("2024-01-08 00:00:00", "x", "session"),  # Monday: W2
        ("2024-01-08 00:00:00", "y", "session"),  # W2
        ("2024-01-14 23:59:59", "y", "session"),  # Sunday: still W2; the data's last day
    ]
    path = make_db(rows)
    # x: cohort W1, retained at k1 (Monday is the next week). y: cohort W2, its Sunday event
    # is in the same week, so the triangle ends at k0. The data ends on Sunday 14 Jan, the
    # last day of W2, so every cell is complete.
    assert retention(path, "week") == [
        *cells(D(2024, 1, 1), 1, [1, 1], [T, T]),
        *cells(D(2024, 1, 8), 1, [1], [T]),
    ]
    # One more second, Monday 15 Jan 00:00: W3 exists and is incomplete; z is its cohort.
    path = make_db([*rows, ("2024-01-15 00:00:00", "z", "session")])
    assert retention(path, "week") == [
        *cells(D(2024, 1, 1), 1, [1, 1, 0], [T, T, F]),
        *cells(D(2024, 1, 8), 1, [1, 0], [T, F]),
        *cells(D(2024, 1, 15), 1, [1], [F]),
    ]
    # By day: x's cohort is Sunday 7 Jan, retained on day k1 = Monday; y's is 8 Jan and its
    # last event is k6 = 14 Jan.
    by_day = {(row[0], row[2]): row for row in retention(path, "day")}
    assert by_day[(D(2024, 1, 7), 1)][3] == 1
    assert [by_day[(D(2024, 1, 8), k)][3] for k in range(8)] == [1, 0, 0, 0, 0, 0, 1, 0]


MONTH_ENDS = [
    ("2024-01-31 23:59:59", "m1", "session"),  # January
    ("2024-02-29 12:00:00", "m1", "session"),  # February (leap day)
    ("2024-02-01 00:00:00", "m2", "session"),  # February
    ("2024-03-01 00:00:00", "m2", "session"),  # March
    ("2024-02-29 23:59:59", "m3", "session"),  # February (leap day, last second)
    ("2024-03-31 23:59:59", "m3", "session"),  # March; the data's last day
]


def test_month_ends_and_leap_day(db):
    path = db("MONTH_ENDS")
    # Cohorts: January {m1}; February {m2, m3}. m1 is active in Feb, not March; m2 and m3
    # both in March. The data ends 31 March, the month's last day: all complete.
    assert retention(path, "month") == [
        *cells(D(2024, 1, 1), 1, [1, 1, 0], [T, T, T]),
        *cells(D(2024, 2, 1), 2, [2, 2], [T, T]),
    ]
    # Unbounded: m1 never comes back after February, so the same numbers.
    assert retention(path, "month", "unbounded") == retention(path, "month", "exact")


def test_leap_day_by_day(db):
    by_day = {}
    for row in retention(db("MONTH_ENDS"), "day"):
        by_day.setdefault(row[0], []).append(row)
    # Day cohorts: 31 Jan {m1}, 1 Feb {m2}, 29 Feb {m3}; 1 March and 31 March hold no one new.
    assert sorted(by_day) == [D(2024, 1, 31), D(2024, 2, 1), D(2024, 2, 29)]
    # 29 Feb -> 31 Mar is 31 days, so m3's cohort has k = 0..31 and returns at k = 31.
    leap = by_day[D(2024, 2, 29)]
    assert [row[2] for row in leap] == list(range(32))
    assert [k for _, _, k, retained, *_ in leap if retained] == [0, 31]
    # 1 Feb -> 1 Mar is 29 days in 2024: m2 returns at k = 29.
    assert [k for _, _, k, retained, *_ in by_day[D(2024, 2, 1)] if retained] == [0, 29]
    # 31 Jan 23:59:59 -> 29 Feb 12:00 is 29 days.
    assert [k for _, _, k, retained, *_ in by_day[D(2024, 1, 31)] if retained] == [0, 29]
    # Every day up to the last one (31 March) is complete.
    assert all(row[-1] for rows in by_day.values() for row in rows)


# Weeks W1 = 1 Jan, W2 = 8 Jan, W3 = 15 Jan; the data ends Sunday 21 Jan (W3 complete).
EVENTS = [
    ("2024-01-01 09:00:00", "p1", "signup"),
    ("2024-01-01 09:05:00", "p1", "session"),
    ("2024-01-10 10:00:00", "p1", "purchase", 20.0),  # W2: first purchase, after sessions
    ("2024-01-16 10:00:00", "p1", "purchase", 15.0),  # W3
    ("2024-01-02 11:00:00", "p2", "signup"),
    ("2024-01-02 11:30:00", "p2", "purchase", 5.0),   # W1
    ("2024-01-09 11:00:00", "p2", "session"),         # W2
    ("2024-01-20 11:00:00", "p2", "purchase", 7.0),   # W3
    ("2024-01-03 12:00:00", "p3", "signup"),
    ("2024-01-04 12:00:00", "p3", "session"),
    ("2024-01-11 12:00:00", "p3", "session"),         # W2; p3 never purchases
    ("2024-01-08 13:00:00", "p4", "signup"),
    ("2024-01-08 13:10:00", "p4", "purchase", 8.0),   # W2
    ("2024-01-21 23:00:00", "p5", "session"),         # W3; the data's last day
]
# Any event: p1 {W1, W2, W3}, p2 {W1, W2, W3}, p3 {W1, W2}, p4 {W2}, p5 {W3}.
# Purchases: p1 {W2, W3}, p2 {W1, W3}, p4 {W2}. Signups: p1, p2, p3 W1; p4 W2.


def test_default_events_are_any_event(db):
    assert retention(db("EVENTS")) == [
        # W1 {p1, p2, p3}: k1 = W2 all three; k2 = W3 p1, p2.
        *cells(D(2024, 1, 1), 3, [3, 3, 2], [T, T, T]),
        # W2 {p4}: not back in W3.
        *cells(D(2024, 1, 8), 1, [1, 0], [T, T]),
        *cells(D(2024, 1, 15), 1, [1], [T]),
    ]


def test_first_purchase_cohort_and_purchase_return(db):
    path = db("EVENTS")
    purchases = {"start_events": ("purchase",), "return_events": ("purchase",)}
    # Cohort = first purchase: p2 W1; p1 W2 (its W1 sessions do not make it a W1 member);
    # p4 W2; p3 and p5 never purchase. The calendar still ends at the data's last period.
    assert retention(path, **purchases) == [
        # W1 {p2}: purchases W1, W3 -> k1 (W2) 0, k2 (W3) 1.
        *cells(D(2024, 1, 1), 1, [1, 0, 1], [T, T, T]),
        # W2 {p1, p4}: k1 = W3: p1 -> 1/2.
        *cells(D(2024, 1, 8), 2, [2, 1], [T, T]),
    ]
    assert retention(path, mode="unbounded", **purchases) == [
        # p2 purchases in W3, which is W2 or later: k1 = 1.
        *cells(D(2024, 1, 1), 1, [1, 1, 1], [T, T, T]),
        *cells(D(2024, 1, 8), 2, [2, 1], [T, T]),
    ]


def test_first_purchase_cohort_with_any_return(db):
    # Cohort by first purchase, any event counts as coming back: W1 {p2} active W1, W2, W3;
    # W2 {p1, p4}: p1 active W3. p1's W1 session is before its cohort and never counts.
    assert retention(db("EVENTS"), start_events=("purchase",)) == [
        *cells(D(2024, 1, 1), 1, [1, 1, 1], [T, T, T]),
        *cells(D(2024, 1, 8), 2, [2, 1], [T, T]),
    ]


def test_signup_cohort_purchase_return_is_below_full_at_k0(db):
    path = db("EVENTS")
    events = {"start_events": ("signup",), "return_events": ("purchase",)}
    # Cohorts by signup: W1 {p1, p2, p3}; W2 {p4}. p5 never signs up.
    # W1: k0 = purchase in W1: p2 -> 1/3 (not 100%); k1 = W2: p1 -> 1/3; k2 = W3: p1, p2.
    # W2: k0 p4 -> 1; k1 = W3: no purchase.
    assert retention(path, **events) == [
        *cells(D(2024, 1, 1), 3, [1, 1, 2], [T, T, T]),
        *cells(D(2024, 1, 8), 1, [1, 0], [T, T]),
    ]
    # Unbounded k0 = any purchase from W1 on: p1, p2 -> 2/3; p3 never purchases.
    assert retention(path, mode="unbounded", **events) == [
        *cells(D(2024, 1, 1), 3, [2, 2, 2], [T, T, T]),
        *cells(D(2024, 1, 8), 1, [1, 0], [T, T]),
    ]
    assert retention(path, **events)[0][4] == 1 / 3


def test_unknown_start_event_gives_no_cohorts(db):
    table = retention_table(
        DuckDBBackend(db("EVENTS")), RetentionQuery(start_events=("nosuch",))
    )
    assert list(table.columns) == COLUMNS and table.empty


def test_date_range_selects_cohorts_by_period_start(db):
    path = db("WEEKLY")
    # [Wed 10 Jan, Mon 22 Jan]: W2 starts Monday 8 Jan, before the range, so it is out;
    # W3 (15 Jan) is in; W4 (22 Jan) would be but has no new users. W3's cells still run to
    # W5 and count u5's activity there, outside the range.
    assert retention(path, start=D(2024, 1, 10), end=D(2024, 1, 22)) == WEEKLY_EXACT[9:12]
    assert retention(path, "week", "unbounded", D(2024, 1, 10), D(2024, 1, 22)) == (
        WEEKLY_UNBOUNDED[9:12]
    )
    # A range starting on the Monday includes that week: W2 only, with all 4 cells.
    assert retention(path, start=D(2024, 1, 8), end=D(2024, 1, 8)) == WEEKLY_EXACT[5:9]
    # [1 Jan, Sun 7 Jan]: W1 only, still with u1's W5 return at k4.
    assert retention(path, start=D(2024, 1, 1), end=D(2024, 1, 7)) == WEEKLY_EXACT[:5]
    # Open-ended: from Tue 9 Jan on, W3 and W5.
    assert retention(path, start=D(2024, 1, 9)) == WEEKLY_EXACT[9:]
    # A range without cohorts is an empty table with the columns.
    assert retention(path, start=D(2024, 1, 23), end=D(2024, 1, 28)) == []


def test_date_range_by_month(db):
    path = db("MONTH_ENDS")
    january = cells(D(2024, 1, 1), 1, [1, 1, 0], [T, T, T])
    february = cells(D(2024, 2, 1), 2, [2, 2], [T, T])
    # A start on 1 Feb keeps February's cohort; 2 Feb excludes it (and March has none).
    assert retention(path, "month", start=D(2024, 2, 1)) == february
    assert retention(path, "month", start=D(2024, 2, 2)) == []
    # The range ends 31 January: the January cohort, with m1's February return.
    assert retention(path, "month", end=D(2024, 1, 31)) == january
    # A start well before the data holds every cohort.
    assert retention(path, "month", start=D(2023, 12, 1)) == [*january, *february]


def test_start_inside_the_first_cohort_period_excludes_it(db):
    # MONTH_ENDS' first event is Wed 31 Jan 23:59:59. January's period starts 1 Jan, before
    # a start of 2 Jan or of 31 Jan (the data's first day): only February's cohort is inside.
    path = db("MONTH_ENDS")
    february = cells(D(2024, 2, 1), 2, [2, 2], [T, T])
    assert retention(path, "month", start=D(2024, 1, 2)) == february
    assert retention(path, "month", start=D(2024, 1, 31)) == february
    # By week: m1 (Wed 31 Jan) and m2 (Thu 1 Feb) form the cohort of Monday 29 Jan, which
    # starts before 31 Jan; m3's cohort (week of Mon 26 Feb) is the only one inside.
    weekly = retention(path, "week", start=D(2024, 1, 31))
    assert {row[0] for row in weekly} == {D(2024, 2, 26)}


def test_start_after_end_is_a_parameter_error():
    with pytest.raises(ParameterError, match="after"):
        RetentionQuery(Grain.WEEK, D(2024, 2, 1), D(2024, 1, 1))


# Weeks W1 = 1 Jan, W2 = 8 Jan, W3 = 15 Jan; the data ends Sunday 21 Jan.
SEGMENTED = [
    # (time, user, type, revenue, platform)
    ("2024-01-01 10:00:00", "s1", "session", None, "web"),   # W1
    ("2024-01-09 10:00:00", "s1", "session", None, "ios"),   # W2
    ("2024-01-09 10:30:00", "s1", "purchase", 9.0, "web"),   # W2
    ("2024-01-17 10:00:00", "s1", "purchase", 4.0, "ios"),   # W3
    ("2024-01-02 10:00:00", "s2", "purchase", 3.0, "ios"),   # W1
    ("2024-01-10 10:00:00", "s2", "session", None, "web"),   # W2
    ("2024-01-18 10:00:00", "s2", "session", None, "ios"),   # W3
    ("2024-01-03 10:00:00", "s3", "session", None, "web"),   # W1
    ("2024-01-21 20:00:00", "s3", "session", None, "web"),   # W3
]


def test_segment_filter_applies_before_cohorts(db):
    path = db("SEGMENTED")
    # Unfiltered: W1 {s1, s2, s3}; k1 = W2: s1, s2; k2 = W3: s1, s2, s3.
    unfiltered = cells(D(2024, 1, 1), 3, [3, 2, 3], [T, T, T])
    assert retention(path) == unfiltered
    # iOS events only: s1 is first active on iOS in W2 (so in the W2 cohort, not W1), s2 in
    # W1; s3 has no iOS event. s2's iOS activity: W1, W3 (its W2 event is web).
    assert retention(path, platform=["ios"]) == [
        *cells(D(2024, 1, 1), 1, [1, 0, 1], [T, T, T]),
        *cells(D(2024, 1, 8), 1, [1, 1], [T, T]),
    ]
    assert retention(path, mode="unbounded", platform=["ios"]) == [
        *cells(D(2024, 1, 1), 1, [1, 1, 1], [T, T, T]),
        *cells(D(2024, 1, 8), 1, [1, 1], [T, T]),
    ]
    # Both platforms are every event: the unfiltered table.
    assert retention(path, platform=["ios", "web"]) == unfiltered


def test_segment_filter_with_start_and_return_events(db):
    path = db("SEGMENTED")
    purchases = {"start_events": ("purchase",), "return_events": ("purchase",)}
    # All purchases: s2 first W1 (never again); s1 first W2 (web), again W3.
    assert retention(path, **purchases) == [
        *cells(D(2024, 1, 1), 1, [1, 0, 0], [T, T, T]),
        *cells(D(2024, 1, 8), 1, [1, 1], [T, T]),
    ]
    # iOS purchases only: s2 W1; s1's first iOS purchase is W3 (its W2 purchase is web).
    assert retention(path, platform=["ios"], **purchases) == [
        *cells(D(2024, 1, 1), 1, [1, 0, 0], [T, T, T]),
        *cells(D(2024, 1, 15), 1, [1], [T]),
    ]


LOGS = {
    "WEEKLY": (WEEKLY, ()),
    "MONTH_ENDS": (MONTH_ENDS, ()),
    "EVENTS": (EVENTS, ()),
    "SEGMENTED": (SEGMENTED, ("platform",)),
}


def test_filter_on_unknown_column_is_refused(db):
    path = db("SEGMENTED")
    with pytest.raises(FilterError, match="nosuch"):
        retention(path, nosuch=["x"])


def test_weighted_average_on_a_hand_made_table():
    # (cohort, size, k, retained, complete); rates are filled in below.
    rows = [
        ("A", 10, 0, 10, T), ("A", 10, 1, 5, T), ("A", 10, 2, 2, T), ("A", 10, 3, 1, F),
        ("B", 30, 0, 30, T), ("B", 30, 1, 6, T), ("B", 30, 2, 3, F),
        ("C", 20, 0, 20, T), ("C", 20, 1, 2, F),
        ("D", 40, 0, 40, F),
    ]
    table = pd.DataFrame(
        [(cohort, size, k, kept, kept / size, complete)
         for cohort, size, k, kept, complete in rows],
        columns=COLUMNS,
    )
    average = weighted_average(table)
    assert list(average.columns) == [
        "period_index", "retained_users", "eligible_users", "retention_rate", "cohorts",
    ]
    assert rows_of(average) == [
        # k0: complete A, B, C (D's only cell is incomplete): 60 / 60.
        (0, 60, 60, 1.0, 3),
        # k1: complete A, B: (5 + 6) / (10 + 30) = 0.275, not the mean rate (0.5 + 0.2) / 2.
        (1, 11, 40, 11 / 40, 2),
        # k2: only A complete: 2 / 10. k3: no complete cell, so no row.
        (2, 2, 10, 0.2, 1),
    ]


def test_weighted_average_of_the_weekly_triangle(db):
    table = retention_table(DuckDBBackend(db("WEEKLY")), RetentionQuery())
    average = weighted_average(table)
    assert rows_of(average) == [
        # k0: W1, W2, W3 complete; the W5 cohort's only cell is incomplete.
        (0, 5, 5, 1.0, 3),
        # k1: W1 1/3, W2 1/1, W3 0/1 -> 2/5.
        (1, 2, 5, 0.4, 3),
        # k2: W1 0/3, W2 0/1 (W3's k2 is W5, incomplete) -> 0/4.
        (2, 0, 4, 0.0, 2),
        # k3: W1 1/3 (W2's k3 is W5). k4 is only W1's incomplete W5 cell: no row.
        (3, 1, 3, 1 / 3, 1),
    ]


def test_wide_pivot_shape(db):
    table = retention_table(DuckDBBackend(db("WEEKLY")), RetentionQuery())
    grid = wide(table)
    # Cohorts as rows (W1, W2, W3, W5), the size then one column per k = 0..4.
    assert grid.shape == (4, 6)
    assert list(grid.index) == [D(2024, 1, 1), D(2024, 1, 8), D(2024, 1, 15), D(2024, 1, 29)]
    assert list(grid.columns) == ["cohort_size", 0, 1, 2, 3, 4]
    assert list(grid["cohort_size"]) == [3, 1, 1, 1]
    # The triangle: W1 has 5 cells, W2 4, W3 3, W5 1; the rest are empty.
    assert list(grid[[0, 1, 2, 3, 4]].notna().sum(axis=1)) == [5, 4, 3, 1]
    assert grid.loc[D(2024, 1, 1), [0, 1, 2, 3, 4]].tolist() == [1.0, 1 / 3, 0.0, 1 / 3, 1 / 3]
    counts = wide(table, "retained_users")
    assert counts.loc[D(2024, 1, 15), [0, 1, 2]].tolist() == [1, 0, 1]
    assert counts.loc[D(2024, 1, 29)].isna().sum() == 4


# ---- Second method: brute force over Python sets on the demo data -------------------------

FREQ = {"day": "D", "week": "W-SUN", "month": "M"}  # W-SUN: weeks ending Sunday
VARIANTS = {
    "all": {},
    "ios": {"platform": ["ios"]},
    "purchases": {"start_events": ("purchase",), "return_events": ("purchase",)},
}


def reference_retention(
    events: pd.DataFrame, grain: str, data_end: dt.date, start_events=None, return_events=None
) -> dict[str, list[tuple]]:
    """Both modes' triangles by brute force with pandas periods, independent of the SQL and
    of queries/periods.py: period ordinals differ by one between consecutive periods."""
    freq = FREQ[grain]
    ordinal = pd.Series(events["event_time"].dt.to_period(freq).array.asi8, index=events.index)
    users = events["user_id"]
    everything = pd.Series(True, index=events.index)
    starts = events["event_type"].isin(start_events) if start_events else everything
    returns = events["event_type"].isin(return_events) if return_events else everything
    cohort_of = ordinal[starts].groupby(users[starts]).min().to_dict()
    active = {user: set(periods) for user, periods in ordinal[returns].groupby(users[returns])}
    members = defaultdict(list)
    for user, cohort in cohort_of.items():
        members[cohort].append(user)
    last = pd.Period(data_end, freq)
    last_is_complete = last.end_time.date() <= data_end
    out = {"exact": [], "unbounded": []}
    for cohort in sorted(members):
        cohort_start = pd.Period(ordinal=cohort, freq=freq).start_time.date()
        size = len(members[cohort])
        # Per member: the set of k at which they returned.
        since = [{p - cohort for p in active.get(u, ()) if p >= cohort} for u in members[cohort]]
        exact_at = Counter(k for ks in since for k in ks)
        latest = sorted(max(ks) for ks in since if ks)
        for k in range(last.ordinal - cohort + 1):
            complete = cohort + k < last.ordinal or last_is_complete
            exact = exact_at[k]
            unbounded = len(latest) - bisect_left(latest, k)  # members returning at k or later
            out["exact"].append((cohort_start, size, k, exact, exact / size, complete))
            out["unbounded"].append((cohort_start, size, k, unbounded, unbounded / size, complete))
    return out


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    # Ends Thursday 29 Feb 2024: the last week is incomplete, February (leap) is complete.
    data = generate_demo(users=1500, seed=11, end_date=D(2024, 2, 29))
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    load(path, Source("demo-events", table=data.events))
    return path, data.events.to_pandas(), {}


def reference_for(demo_db, grain: str, variant: str) -> dict[str, list[tuple]]:
    _, events, cache = demo_db
    if (grain, variant) not in cache:
        options = dict(VARIANTS[variant])
        platform = options.pop("platform", None)
        if platform:
            events = events[events["platform"].isin(platform)]
        data_end = demo_db[1]["event_time"].max().date()  # of all data, unfiltered
        cache[grain, variant] = reference_retention(events, grain, data_end, **options)
    return cache[grain, variant]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("mode", ["exact", "unbounded"])
@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_matches_brute_force_on_demo_data(demo_db, grain, mode, variant):
    path, events, _ = demo_db
    assert events["event_time"].max().date() == D(2024, 2, 29)
    expected = reference_for(demo_db, grain, variant)[mode]
    actual = retention(path, grain, mode, **VARIANTS[variant])
    assert len(actual) == len(expected)
    assert actual == expected


def test_brute_force_reference_sanity(demo_db):
    # The demo data is big enough to say something: many cohorts, a real triangle, and the
    # last week incomplete but February (ending on the leap day) complete.
    weekly = reference_for(demo_db, "week", "all")["exact"]
    assert len({row[0] for row in weekly}) >= 60
    assert weekly[-1][-1] is False
    monthly = reference_for(demo_db, "month", "all")["exact"]
    assert monthly[-1][0] == D(2024, 2, 1) and all(row[-1] for row in monthly)
    assert any(0 < row[3] < row[1] for row in reference_for(demo_db, "month", "purchases")["exact"])


def test_naming_every_event_type_equals_the_default(demo_db):
    # The default reads the user periods materialised at load; naming every event type as
    # start and return computes them from the events instead: the same triangle.
    path, events, _ = demo_db
    every_type = tuple(sorted(set(events["event_type"])))
    computed = retention(path, "week", start_events=every_type, return_events=every_type)
    assert computed == reference_for(demo_db, "week", "all")["exact"]


@pytest.mark.parametrize(
    ("grain", "platform"), [("day", None), ("week", None), ("month", None), ("week", "ios")]
)
def test_cohort_sizes_equal_growth_new_users(demo_db, grain, platform):
    path, _, _ = demo_db
    filters = {"platform": [platform]} if platform else {}
    sizes = {row[0]: row[1] for row in retention(path, grain, **filters)}
    growth = growth_table(
        DuckDBBackend(path), GrowthQuery(Grain(grain), segment=SegmentFilter.from_mapping(filters))
    )
    new_users = {
        row.period_start: row.new_users for row in growth.itertuples() if row.new_users
    }
    assert sizes == new_users
    assert len(sizes) > 10


def test_window_equals_matching_cohorts_of_unfiltered(demo_db):
    path, _, _ = demo_db
    full = retention(path, "week")
    # Wed 10 Jan 2024 to Sun 11 Feb: weekly cohorts starting 15 Jan .. 5 Feb.
    window = retention(path, "week", start=D(2024, 1, 10), end=D(2024, 2, 11))
    assert window == [row for row in full if D(2024, 1, 15) <= row[0] <= D(2024, 2, 5)]
    assert sorted({row[0] for row in window}) == [
        D(2024, 1, 15), D(2024, 1, 22), D(2024, 1, 29), D(2024, 2, 5),
    ]
