"""Revenue SQL on small hand-made logs; expected rows are derived by hand in comments, and a
second, brute-force method in pandas checks the demo data at every grain and a few windows.

Definitions (queries/revenue.py): revenue is the sum of `revenue`; an order is an event with
a revenue value (0 included); paying users are distinct users with an order; AOV = revenue /
orders; ARPU = revenue / active users (any event passing the segment filter). The trend has
one row per period from the first period with events to the period holding the data's last
day, empty periods included; --start/--end keep the periods overlapping the range; a period
ending after the data's last day is incomplete. Weeks start on Monday.
Window comparison: [start, end] is n whole UTC days, end inclusive; the previous window is
the n days just before start; delta_pct = delta / previous revenue * 100 (a percentage, as
exec-kpi's SAFE_DIVIDE(cur - prev, prev) * 100), None when the previous revenue is 0.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from app.demo import generate_demo
from app.storage import Source, load
from queries.backends import DuckDBBackend
from queries.errors import ParameterError
from queries.filters import FilterError, SegmentFilter
from queries.periods import Grain
from queries.revenue import (
    COLUMNS,
    TREND_COLUMNS,
    WINDOW_COLUMNS,
    RevenueQuery,
    previous_window,
    revenue_breakdown,
    revenue_table,
    revenue_trend,
    revenue_window,
    window_table,
)
from tests.conftest import log_databases

D = dt.date
T, F = True, False


def plain(value):
    """A cell as a plain Python value: numpy scalars unwrapped, NaN as None."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and pd.isna(value):
        return None
    return value


def rows_of(table: pd.DataFrame) -> list[tuple]:
    return [tuple(plain(value) for value in row) for row in table.itertuples(index=False)]


def approx_rows(rows: list[tuple]) -> list[tuple]:
    """Expected rows with every float compared by pytest.approx (sums of floats are not exact)."""
    return [
        tuple(pytest.approx(v, rel=1e-12, abs=1e-9) if isinstance(v, float) else v for v in row)
        for row in rows
    ]


def query(grain="week", start=None, end=None, **filters) -> RevenueQuery:
    return RevenueQuery(Grain(grain), start, end, SegmentFilter.from_mapping(filters))


def table(path, grain="week", start=None, end=None, **filters) -> list[tuple]:
    """revenue_table: period_start, revenue, orders, paying_users, aov, is_complete."""
    frame = revenue_table(DuckDBBackend(path), query(grain, start, end, **filters))
    assert list(frame.columns) == COLUMNS
    return rows_of(frame)


def trend(path, grain="week", start=None, end=None, **filters) -> list[tuple]:
    frame = revenue_trend(DuckDBBackend(path), query(grain, start, end, **filters))
    assert list(frame.columns) == TREND_COLUMNS
    return rows_of(frame)


def breakdown(path, grain="week", column="platform", top=6, start=None, end=None, **filters):
    frame = revenue_breakdown(
        DuckDBBackend(path), query(grain, start, end, **filters), column, top=top
    )
    assert list(frame.columns) == ["period_start", "segment_value", "revenue"]
    return rows_of(frame)


def window(path, start, end, **filters) -> dict:
    comparison = revenue_window(
        DuckDBBackend(path), start, end, SegmentFilter.from_mapping(filters)
    )
    frame = window_table(comparison)
    assert list(frame.columns) == WINDOW_COLUMNS and len(frame) == 1
    row = dict(zip(WINDOW_COLUMNS, rows_of(frame)[0], strict=True))
    assert row["delta"] == pytest.approx(row["revenue"] - row["previous_revenue"])
    return row


def window_row(start, end, revenue, previous_start, previous_end, previous_revenue, delta,
               delta_pct, orders, previous_orders) -> dict:
    row = dict(zip(WINDOW_COLUMNS, [
        start, end, revenue, previous_start, previous_end, previous_revenue, delta, delta_pct,
        orders, previous_orders,
    ], strict=True))
    return {k: pytest.approx(v) if isinstance(v, float) else v for k, v in row.items()}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """Each hand-made log below, loaded once per module through the real loader (as conftest's
    make_db does): db("SHOP") is the path of the DuckDB file holding SHOP."""
    return log_databases(tmp_path_factory.mktemp("revenue"), LOGS)


# Weeks: W1 = Mon 1 Jan 2024, W2 = 8 Jan, W3 = 15 Jan, W4 = 22 Jan, W5 = 29 Jan (to Sun 4
# Feb). The data ends Wednesday 31 Jan: W5 is incomplete, January is complete.
SHOP = [
    # (time, user, type, revenue, platform)
    ("2024-01-01 09:00:00", "a", "session", None, "web"),      # W1, not an order
    ("2024-01-01 09:10:00", "a", "purchase", 20.0, "web"),     # W1
    ("2024-01-03 12:00:00", "b", "purchase", 10.0, "ios"),     # W1
    ("2024-01-03 13:00:00", "b", "purchase", 5.0, "ios"),      # W1, b's second order
    ("2024-01-07 23:59:59", "c", "session", None, "ios"),      # W1 (Sunday night)
    ("2024-01-08 00:00:00", "c", "purchase", 0.0, "ios"),      # W2 (Monday 00:00), free order
    ("2024-01-10 10:00:00", "d", "session", None, "web"),      # W2
    # W3 (15-21 Jan): no events at all.
    ("2024-01-22 07:00:00", "f", "purchase", 4.0, None),       # W4, no platform
    ("2024-01-24 08:00:00", "a", "purchase", 30.0, "android"), # W4
    ("2024-01-24 09:00:00", "d", "purchase", 12.5, "web"),     # W4
    ("2024-01-31 23:59:59", "e", "session", None, None),       # W5; the data's last second
]
SHOP_WEEKLY = [
    # (period_start, revenue, orders, paying_users, aov, is_complete)
    # W1: 20 + 10 + 5 = 35 over 3 orders by a and b (c only has a session): AOV 35 / 3.
    (D(2024, 1, 1), 35.0, 3, 2, 35 / 3, T),
    # W2: c's free order: revenue 0, one order, one paying user, AOV 0 (not empty).
    (D(2024, 1, 8), 0.0, 1, 1, 0.0, T),
    # W3: no events: still a row, revenue 0, AOV empty.
    (D(2024, 1, 15), 0.0, 0, 0, None, T),
    # W4: 4 + 30 + 12.5 = 46.5 by f, a, d: AOV 15.5.
    (D(2024, 1, 22), 46.5, 3, 3, 15.5, T),
    # W5: e's session only; the week ends Sun 4 Feb, after the data's last day.
    (D(2024, 1, 29), 0.0, 0, 0, None, F),
]


def test_weekly_trend_with_empty_week_free_order_and_incomplete_last_week(db):
    assert table(db("SHOP"), "week") == approx_rows(SHOP_WEEKLY)


def test_trend_active_users_and_arpu_in_periods_with_orders(db):
    rows = {row[0]: row for row in trend(db("SHOP"), "week")}
    # (active_users, arpu): W1 a, b, c active -> 35 / 3; W2 c, d -> 0 / 2 = 0 (there is an
    # order, of 0); W3 nobody -> ARPU empty; W4 f, a, d -> 46.5 / 3.
    columns = {name: i for i, name in enumerate(TREND_COLUMNS)}
    picked = [
        (rows[day][columns["active_users"]], rows[day][columns["arpu"]])
        for day in (D(2024, 1, 1), D(2024, 1, 8), D(2024, 1, 15), D(2024, 1, 22))
    ]
    assert picked == [(3, pytest.approx(35 / 3)), (2, 0.0), (0, None), (3, pytest.approx(15.5))]
    # W5: e is active (1 user) but nothing was bought.
    assert rows[D(2024, 1, 29)][columns["active_users"]] == 1


def test_arpu_is_zero_in_a_period_with_activity_but_no_order(db):
    columns = {name: i for i, name in enumerate(TREND_COLUMNS)}
    rows = {row[0]: row for row in trend(db("SHOP"), "week")}
    # W5: revenue 0 (shown as 0), 1 active user (e): ARPU = 0 / 1 = 0.0.
    last = rows[D(2024, 1, 29)]
    assert (last[columns["revenue"]], last[columns["active_users"]]) == (0.0, 1)
    assert last[columns["arpu"]] == 0.0


def test_monthly_and_daily_trend(db):
    path = db("SHOP")
    # January: 35 + 0 + 46.5 = 81.5 over 7 orders by a, b, c, d, f; data ends 31 Jan, the
    # month's last day: complete. 6 active users (e too): ARPU 81.5 / 6.
    assert table(path, "month") == approx_rows([(D(2024, 1, 1), 81.5, 7, 5, 81.5 / 7, T)])
    monthly = trend(path, "month")[0]
    assert monthly[4:7] == (6, pytest.approx(81.5 / 7), pytest.approx(81.5 / 6))
    # By day: 1..31 January, every day complete (the last one ends on the data's last day).
    daily = table(path, "day")
    assert [row[0] for row in daily] == [D(2024, 1, 1) + dt.timedelta(days=i) for i in range(31)]
    assert all(row[5] for row in daily)
    with_orders = [row for row in daily if row[2]]
    assert with_orders == approx_rows([
        (D(2024, 1, 1), 20.0, 1, 1, 20.0, T),
        (D(2024, 1, 3), 15.0, 2, 1, 7.5, T),   # b twice: 2 orders, 1 paying user
        (D(2024, 1, 8), 0.0, 1, 1, 0.0, T),
        (D(2024, 1, 22), 4.0, 1, 1, 4.0, T),
        (D(2024, 1, 24), 42.5, 2, 2, 21.25, T),
    ])
    # Days without orders: revenue 0, AOV empty.
    assert {row[1:5] for row in daily if not row[2]} == {(0.0, 0, 0, None)}


def test_date_range_returns_overlapping_periods(db):
    path = db("SHOP")
    # [Wed 10 Jan, Tue 23 Jan] overlaps W2, W3 (empty), W4.
    assert table(path, "week", D(2024, 1, 10), D(2024, 1, 23)) == approx_rows(SHOP_WEEKLY[1:4])
    # A single Sunday is in one week; the Monday after is the next week.
    assert table(path, "week", D(2024, 1, 7), D(2024, 1, 7)) == approx_rows(SHOP_WEEKLY[:1])
    assert table(path, "week", D(2024, 1, 8), D(2024, 1, 8)) == approx_rows(SHOP_WEEKLY[1:2])
    # Open-ended from Sun 21 Jan: W3 to the end.
    assert table(path, "week", start=D(2024, 1, 21)) == approx_rows(SHOP_WEEKLY[2:])
    # A start before the data adds no earlier empty periods: the trend starts at W1.
    assert table(path, "week", start=D(2023, 12, 1)) == approx_rows(SHOP_WEEKLY)
    # One day by day; the whole month from its last day.
    assert table(path, "day", D(2024, 1, 3), D(2024, 1, 3)) == approx_rows(
        [(D(2024, 1, 3), 15.0, 2, 1, 7.5, T)]
    )
    assert [row[0] for row in table(path, "month", D(2024, 1, 31), D(2024, 1, 31))] == [
        D(2024, 1, 1)
    ]
    # A range after the data: no rows, still the columns.
    assert table(path, "week", D(2024, 2, 5), D(2024, 2, 11)) == []


def test_segment_filter(db):
    path = db("SHOP")
    # iOS events: b's two orders (W1, 15), c's session (W1) and free order (W2). The trend
    # starts at W1 and runs to W5, the period of the data's (unfiltered) last day.
    assert table(path, "week", platform=["ios"]) == approx_rows([
        (D(2024, 1, 1), 15.0, 2, 1, 7.5, T),
        (D(2024, 1, 8), 0.0, 1, 1, 0.0, T),
        (D(2024, 1, 15), 0.0, 0, 0, None, T),
        (D(2024, 1, 22), 0.0, 0, 0, None, T),
        (D(2024, 1, 29), 0.0, 0, 0, None, F),
    ])
    # (active_users, aov, arpu): W1 b and c active -> AOV 15 / 2, ARPU 15 / 2.
    assert trend(path, "week", platform=["ios"])[0][4:7] == (
        2, pytest.approx(7.5), pytest.approx(7.5)
    )
    # Android: a's W4 order only; the trend starts at the first period with such events
    # (as growth does), W4.
    assert table(path, "week", platform=["android"]) == approx_rows([
        (D(2024, 1, 22), 30.0, 1, 1, 30.0, T),
        (D(2024, 1, 29), 0.0, 0, 0, None, F),
    ])
    # Two values are alternatives: web or android, W4 = 30 + 12.5 by a and d.
    assert table(path, "week", platform=["android", "web"])[-2] == approx_rows(
        [(D(2024, 1, 22), 42.5, 2, 2, 21.25, T)]
    )[0]
    # Only purchases count as activity: every active user paid.
    by_type = trend(path, "month", event_type=["purchase"])
    assert by_type[0][1:5] == (pytest.approx(81.5), 7, 5, 5)
    # No matching events: no rows.
    assert table(path, "week", platform=["nosuch"]) == []
    with pytest.raises(FilterError, match="nosuch"):
        table(path, "week", nosuch=["x"])


def test_trend_dtypes(db):
    frame = revenue_trend(DuckDBBackend(db("SHOP")), query("week"))
    assert str(frame["orders"].dtype) == "int64" and str(frame["paying_users"].dtype) == "int64"
    assert str(frame["revenue"].dtype) == "float64" and str(frame["aov"].dtype) == "float64"
    assert frame["is_complete"].dtype == bool
    assert all(isinstance(day, dt.date) for day in frame["period_start"])


# Month ends and the leap day; the data ends Friday 1 March 2024, 00:00.
MONTH_ENDS = [
    ("2024-01-31 23:59:59", "m1", "purchase", 10.0),  # January, last second
    ("2024-02-01 00:00:00", "m1", "purchase", 20.0),  # February, first second
    ("2024-02-29 23:59:59", "m2", "purchase", 40.0),  # February (leap day), last second
    ("2024-03-01 00:00:00", "m2", "purchase", 80.0),  # March; the data's last day
]


def test_month_ends_and_leap_day_trend(db):
    path = db("MONTH_ENDS")
    assert table(path, "month") == approx_rows([
        (D(2024, 1, 1), 10.0, 1, 1, 10.0, T),
        # February: 20 + 40 (29 Feb 23:59:59 is still February).
        (D(2024, 2, 1), 60.0, 2, 2, 30.0, T),
        # March: 1 March 00:00 only; the month ends after the data: incomplete.
        (D(2024, 3, 1), 80.0, 1, 1, 80.0, F),
    ])
    # Weeks: Mon 29 Jan holds 31 Jan and 1 Feb (m1 twice); 5, 12, 19 Feb are empty; Mon 26
    # Feb holds 29 Feb and 1 Mar (m2 twice) and ends Sun 3 March: incomplete.
    assert table(path, "week") == approx_rows([
        (D(2024, 1, 29), 30.0, 2, 1, 15.0, T),
        (D(2024, 2, 5), 0.0, 0, 0, None, T),
        (D(2024, 2, 12), 0.0, 0, 0, None, T),
        (D(2024, 2, 19), 0.0, 0, 0, None, T),
        (D(2024, 2, 26), 120.0, 2, 1, 60.0, F),
    ])
    # Days: 31 Jan .. 1 Mar is 31 days (29 in February); 29 Feb is a row of its own.
    daily = {row[0]: row for row in table(path, "day")}
    assert len(daily) == 31
    assert daily[D(2024, 2, 29)] == approx_rows([(D(2024, 2, 29), 40.0, 1, 1, 40.0, T)])[0]
    assert daily[D(2024, 3, 1)][5] is True  # the data's last day is a whole period


def test_window_edges_on_month_ends(db):
    path = db("MONTH_ENDS")
    # [1 Feb, 29 Feb] is 29 days: the previous window is [3 Jan, 31 Jan]. 1 Feb 00:00 is
    # current and 31 Jan 23:59:59 previous; 29 Feb 23:59:59 is in, 1 Mar 00:00 is out.
    # Current 20 + 40 = 60; previous 10; delta 50, +500%.
    assert window(path, D(2024, 2, 1), D(2024, 2, 29)) == window_row(
        D(2024, 2, 1), D(2024, 2, 29), 60.0, D(2024, 1, 3), D(2024, 1, 31), 10.0, 50.0, 500.0,
        2, 1,
    )
    # March (31 days) against [30 Jan, 29 Feb]: 80 against 10 + 20 + 40 = 70.
    assert window(path, D(2024, 3, 1), D(2024, 3, 31)) == window_row(
        D(2024, 3, 1), D(2024, 3, 31), 80.0, D(2024, 1, 30), D(2024, 2, 29), 70.0, 10.0,
        100 * 10 / 70, 1, 3,
    )


def test_leap_day_one_day_windows(db):
    path = db("MONTH_ENDS")
    # 29 Feb against 28 Feb: 40 against nothing: delta 40, delta_pct undefined.
    assert window(path, D(2024, 2, 29), D(2024, 2, 29)) == window_row(
        D(2024, 2, 29), D(2024, 2, 29), 40.0, D(2024, 2, 28), D(2024, 2, 28), 0.0, 40.0, None,
        1, 0,
    )
    # 1 March against 29 Feb: 80 against 40, +100%.
    assert window(path, D(2024, 3, 1), D(2024, 3, 1)) == window_row(
        D(2024, 3, 1), D(2024, 3, 1), 80.0, D(2024, 2, 29), D(2024, 2, 29), 40.0, 40.0, 100.0,
        1, 1,
    )
    # 31 Jan (its last second) against 30 Jan (nothing).
    assert window(path, D(2024, 1, 31), D(2024, 1, 31))["delta_pct"] is None


def test_previous_window_arithmetic():
    assert previous_window(D(2024, 2, 29), D(2024, 2, 29)) == (D(2024, 2, 28), D(2024, 2, 28))
    assert previous_window(D(2024, 3, 1), D(2024, 3, 31)) == (D(2024, 1, 30), D(2024, 2, 29))
    assert previous_window(D(2023, 3, 1), D(2023, 3, 31)) == (D(2023, 1, 29), D(2023, 2, 28))
    assert previous_window(D(2024, 1, 1), D(2024, 1, 7)) == (D(2023, 12, 25), D(2023, 12, 31))


def test_windows_with_free_orders_and_zero_previous_revenue(db):
    path = db("SHOP")
    # W2 [8 Jan, 14 Jan] against W1 [1 Jan, 7 Jan]: c's free order (revenue 0, 1 order)
    # against 35 over 3 orders. c's Sunday 23:59:59 session is no order. -100%.
    assert window(path, D(2024, 1, 8), D(2024, 1, 14)) == window_row(
        D(2024, 1, 8), D(2024, 1, 14), 0.0, D(2024, 1, 1), D(2024, 1, 7), 35.0, -35.0, -100.0,
        1, 3,
    )
    # W3 against W2: nothing against the free order: previous revenue 0 (with 1 order), so
    # delta 0 and delta_pct undefined.
    assert window(path, D(2024, 1, 15), D(2024, 1, 21)) == window_row(
        D(2024, 1, 15), D(2024, 1, 21), 0.0, D(2024, 1, 8), D(2024, 1, 14), 0.0, 0.0, None,
        0, 1,
    )
    # W4 against W3: 46.5 against nothing.
    assert window(path, D(2024, 1, 22), D(2024, 1, 28)) == window_row(
        D(2024, 1, 22), D(2024, 1, 28), 46.5, D(2024, 1, 15), D(2024, 1, 21), 0.0, 46.5, None,
        3, 0,
    )


def test_window_comparison_properties(db):
    backend = DuckDBBackend(db("SHOP"))
    # [1 Jan, 24 Jan] (24 days) against [8 Dec, 31 Dec] (no data): 35 + 0 + 46.5 = 81.5 over
    # 7 orders by a, b, c, d, f.
    comparison = revenue_window(backend, D(2024, 1, 1), D(2024, 1, 24))
    assert (comparison.previous_start, comparison.previous_end) == (D(2023, 12, 8), D(2023, 12, 31))
    assert (comparison.orders, comparison.paying_users) == (7, 5)
    assert (comparison.previous_orders, comparison.previous_paying_users) == (0, 0)
    assert comparison.aov == pytest.approx(81.5 / 7) and comparison.previous_aov is None
    assert comparison.days == 24 and comparison.days_with_data == 24
    # [29 Jan, 4 Feb] against [22 Jan, 28 Jan]: the data ends Wed 31 Jan, 3 days in.
    comparison = revenue_window(backend, D(2024, 1, 29), D(2024, 2, 4))
    assert comparison.days == 7 and comparison.days_with_data == 3
    assert comparison.revenue == 0 and comparison.previous_revenue == pytest.approx(46.5)
    assert comparison.previous_aov == pytest.approx(15.5) and comparison.aov is None


def test_window_segment_filter(db):
    path = db("SHOP")
    # iOS, [1 Jan, 14 Jan]: b's 10 + 5 and c's free order: 15 over 3 orders; the previous 14
    # days hold no data.
    assert window(path, D(2024, 1, 1), D(2024, 1, 14), platform=["ios"]) == window_row(
        D(2024, 1, 1), D(2024, 1, 14), 15.0, D(2023, 12, 18), D(2023, 12, 31), 0.0, 15.0, None,
        3, 0,
    )
    # Web, [15 Jan, 28 Jan] against [1 Jan, 14 Jan]: d's 12.5 against a's 20: -37.5%.
    assert window(path, D(2024, 1, 15), D(2024, 1, 28), platform=["web"]) == window_row(
        D(2024, 1, 15), D(2024, 1, 28), 12.5, D(2024, 1, 1), D(2024, 1, 14), 20.0, -7.5,
        -37.5, 1, 1,
    )
    with pytest.raises(FilterError, match="nosuch"):
        window(path, D(2024, 1, 1), D(2024, 1, 2), nosuch=["x"])


def test_window_without_any_order(db):
    # [5 Feb, 11 Feb] against [29 Jan, 4 Feb]: no order in either (e's session is no order).
    assert window(db("SHOP"), D(2024, 2, 5), D(2024, 2, 11)) == window_row(
        D(2024, 2, 5), D(2024, 2, 11), 0.0, D(2024, 1, 29), D(2024, 2, 4), 0.0, 0.0, None, 0, 0,
    )


def test_start_after_end_is_a_parameter_error(db):
    with pytest.raises(ParameterError, match="after"):
        RevenueQuery(Grain.WEEK, D(2024, 2, 1), D(2024, 1, 1))
    with pytest.raises(ParameterError, match="after"):
        revenue_window(DuckDBBackend(db("SHOP")), D(2024, 2, 1), D(2024, 1, 31))


def test_breakdown_by_platform(db):
    path = db("SHOP")
    # Orders only (sessions carry no revenue), per week and platform, sorted by period then
    # value; f's order has no platform: '(none)', which sorts before letters.
    assert breakdown(path, "week") == approx_rows([
        (D(2024, 1, 1), "ios", 15.0),
        (D(2024, 1, 1), "web", 20.0),
        (D(2024, 1, 8), "ios", 0.0),        # the free order still makes a row
        (D(2024, 1, 22), "(none)", 4.0),
        (D(2024, 1, 22), "android", 30.0),
        (D(2024, 1, 22), "web", 12.5),
    ])
    assert breakdown(path, "month") == approx_rows([
        (D(2024, 1, 1), "(none)", 4.0),
        (D(2024, 1, 1), "android", 30.0),
        (D(2024, 1, 1), "ios", 15.0),
        (D(2024, 1, 1), "web", 32.5),
    ])


def test_breakdown_top_values_and_other(db):
    path = db("SHOP")
    # Totals: web 32.5, android 30, ios 15, (none) 4. Top 2: web and android; ios and
    # (none) become 'other', summed per period.
    assert breakdown(path, "week", top=2) == approx_rows([
        (D(2024, 1, 1), "other", 15.0),
        (D(2024, 1, 1), "web", 20.0),
        (D(2024, 1, 8), "other", 0.0),
        (D(2024, 1, 22), "android", 30.0),
        (D(2024, 1, 22), "other", 4.0),
        (D(2024, 1, 22), "web", 12.5),
    ])
    # Top 1: web only; W4's other = android 30 + (none) 4.
    assert breakdown(path, "week", top=1) == approx_rows([
        (D(2024, 1, 1), "other", 15.0),
        (D(2024, 1, 1), "web", 20.0),
        (D(2024, 1, 8), "other", 0.0),
        (D(2024, 1, 22), "other", 34.0),
        (D(2024, 1, 22), "web", 12.5),
    ])
    # Within [10 Jan, 28 Jan] (W2 to W4) the leaders are computed over the range: android
    # 30 first, then web 12.5 (not W1's web 20).
    assert breakdown(path, "week", top=1, start=D(2024, 1, 10), end=D(2024, 1, 28)) == (
        approx_rows([
            (D(2024, 1, 8), "other", 0.0),
            (D(2024, 1, 22), "android", 30.0),
            (D(2024, 1, 22), "other", 16.5),
        ])
    )
    # With the iOS filter only iOS orders are left.
    assert breakdown(path, "week", platform=["ios"]) == approx_rows([
        (D(2024, 1, 1), "ios", 15.0), (D(2024, 1, 8), "ios", 0.0),
    ])
    # Per period the breakdown adds up to the trend's revenue.
    totals = {}
    for day, _, revenue in breakdown(path, "week", top=2):
        totals[day] = totals.get(day, 0) + revenue
    assert totals == {row[0]: pytest.approx(row[1]) for row in SHOP_WEEKLY if row[2]}


def test_breakdown_column_must_be_a_segment_column(db):
    backend = DuckDBBackend(db("SHOP"))
    for column in ("nosuch", "revenue", "user_id"):
        with pytest.raises(FilterError, match="cannot break down"):
            revenue_breakdown(backend, query("week"), column)


LOGS = {
    "SHOP": (SHOP, ("platform",)),
    "MONTH_ENDS": (MONTH_ENDS, ()),
}


# ---- Second method: brute force in pandas on the demo data --------------------------------

FREQ = {"day": "D", "week": "W-SUN", "month": "M"}  # W-SUN: weeks ending Sunday
DEMO_END = D(2024, 2, 29)  # a Thursday: the last week is incomplete, February complete


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = generate_demo(users=1500, seed=5, end_date=DEMO_END)
    path = tmp_path_factory.mktemp("revenue_demo") / "demo.duckdb"
    load(path, Source("demo-events", table=data.events))
    events = data.events.to_pandas()
    assert events["event_time"].max().date() == DEMO_END
    return path, events


def reference_trend(events, grain, data_end, start=None, end=None) -> list[tuple]:
    """The revenue table by pandas periods, independent of queries/periods.py and the SQL."""
    freq = FREQ[grain]
    periods = events["event_time"].dt.to_period(freq)
    ordinal = pd.Series(periods.array.asi8, index=events.index)
    orders = events["revenue"].notna()
    last = pd.Period(data_end, freq).ordinal
    out = []
    for number in range(int(ordinal.min()), last + 1):
        period = pd.Period(ordinal=number, freq=freq)
        first_day, last_day = period.start_time.date(), period.end_time.date()
        if (start and last_day < start) or (end and first_day > end):
            continue
        here = ordinal == number
        paid = here & orders
        revenue = float(events.loc[paid, "revenue"].sum())
        count = int(paid.sum())
        out.append((
            first_day, revenue, count, events.loc[paid, "user_id"].nunique(),
            revenue / count if count else None, last_day <= data_end,
        ))
    return out


CASES = [
    ("day", {}), ("week", {}), ("month", {}),
    ("week", {"platform": ["ios"]}),
    ("month", {"start": D(2023, 6, 14), "end": D(2023, 9, 30)}),
    ("day", {"start": D(2023, 6, 14), "end": D(2023, 9, 30)}),
]


@pytest.mark.parametrize(("grain", "options"), CASES, ids=lambda v: str(v).replace(" ", ""))
def test_trend_matches_brute_force_on_demo_data(demo, grain, options):
    path, events = demo
    options = dict(options)
    platform = options.pop("platform", None)
    filtered = events[events["platform"].isin(platform)] if platform else events
    expected = reference_trend(filtered, grain, DEMO_END, **options)
    actual = table(path, grain, options.get("start"), options.get("end"),
                   **({"platform": platform} if platform else {}))
    assert len(actual) == len(expected) > 3
    assert actual == approx_rows(expected)


def test_demo_trend_sanity(demo):
    path, events = demo
    weekly = table(path, "week")
    # The demo data says something: many weeks with orders and some without, the last week
    # incomplete, February (ending on the leap day) complete.
    assert sum(1 for row in weekly if row[2]) > 40
    assert weekly[-1][0] == D(2024, 2, 26) and weekly[-1][5] is False
    assert table(path, "month")[-1][::5] == (D(2024, 2, 1), True)
    # The total over all periods is all the revenue.
    assert sum(row[1] for row in weekly) == pytest.approx(events["revenue"].sum())
    # Active users and ARPU where there are orders: revenue / distinct active users.
    columns = {name: i for i, name in enumerate(TREND_COLUMNS)}
    monthly = trend(path, "month")
    months = events["event_time"].dt.to_period("M")
    for row in monthly:
        active = events.loc[months == pd.Period(row[0], "M"), "user_id"].nunique()
        assert row[columns["active_users"]] == active
        if row[columns["orders"]]:
            assert row[columns["arpu"]] == pytest.approx(row[columns["revenue"]] / active)


def midnight(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


@pytest.mark.parametrize(
    ("start", "end", "platform"),
    [
        (D(2024, 2, 1), D(2024, 2, 29), None),     # leap February against January's end
        (D(2024, 2, 29), D(2024, 2, 29), None),    # the leap day against 28 Feb
        (D(2023, 12, 25), D(2024, 1, 7), None),    # across the year end
        (D(2023, 11, 1), D(2023, 11, 30), "web"),
    ],
)
def test_window_matches_brute_force_on_demo_data(demo, start, end, platform):
    path, events = demo
    if platform:
        events = events[events["platform"] == platform]
    days = (end - start).days + 1
    previous_start = start - dt.timedelta(days=days)
    orders = events[events["revenue"].notna()]
    times = orders["event_time"]
    current = orders[(times >= midnight(start)) & (times < midnight(end + dt.timedelta(days=1)))]
    previous = orders[(times >= midnight(previous_start)) & (times < midnight(start))]
    revenue, previous_revenue = current["revenue"].sum(), previous["revenue"].sum()
    assert len(current) and len(previous)
    expected = window_row(
        start, end, float(revenue), previous_start, start - dt.timedelta(days=1),
        float(previous_revenue), float(revenue - previous_revenue),
        float((revenue - previous_revenue) / previous_revenue * 100), len(current), len(previous),
    )
    comparison = revenue_window(
        DuckDBBackend(path), start, end,
        SegmentFilter.from_mapping({"platform": [platform]} if platform else {}),
    )
    assert dict(zip(WINDOW_COLUMNS, rows_of(window_table(comparison))[0], strict=True)) == (
        expected
    )
    assert comparison.paying_users == current["user_id"].nunique()
    assert comparison.previous_paying_users == previous["user_id"].nunique()
