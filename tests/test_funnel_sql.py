"""Funnel SQL on small hand-made logs; expected rows are derived by hand in comments, and a
second, brute-force method in plain Python checks the demo data.

Definitions (queries/funnel.py): a user reaches step k when they did steps 1..k in that
order, each at or after the time of the previous step (a repeated step, e.g. page_view,
page_view, needs a second, later event), all within the conversion window counted from step
1, with step 1 inside the date range (whole UTC days). Each user counts once, with the attempt
(step-1 event) that went furthest. Per step: users, conversion from the previous and the
first step, median seconds from the previous step over the users reaching the step.
"""

from __future__ import annotations

import datetime as dt
import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from app.demo import generate_demo
from app.storage import Source, load
from queries.backends import DuckDBBackend
from queries.errors import ParameterError
from queries.filters import FilterError, SegmentFilter
from queries.funnel import COLUMNS, DEFAULT_STEPS, FunnelQuery, funnel_breakdown, funnel_table
from tests.conftest import log_databases

D = dt.date
PV, CART, BUY = DEFAULT_STEPS  # page_view, add_to_cart, purchase
DAY = 86400


def plain(value):
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and pd.isna(value):
        return None
    return value


def approx(value):
    return pytest.approx(value, rel=1e-12, abs=1e-6) if isinstance(value, float) else value


def approx_rows(rows):
    return [tuple(approx(v) for v in row) for row in rows]


def make_query(steps=DEFAULT_STEPS, window_days=7, start=None, end=None, breakdown=None,
               **filters) -> FunnelQuery:
    return FunnelQuery(
        steps=tuple(steps), window_days=window_days, start=start, end=end,
        segment=SegmentFilter.from_mapping(filters), breakdown=breakdown,
    )


def funnel(path, steps=DEFAULT_STEPS, window_days=7, start=None, end=None, **filters):
    frame = funnel_table(
        DuckDBBackend(path), make_query(steps, window_days, start, end, **filters)
    )
    assert list(frame.columns) == COLUMNS
    return [tuple(plain(v) for v in row) for row in frame.itertuples(index=False)]


def by_segment(path, column="platform", window_days=7, start=None, end=None, **filters):
    """funnel_breakdown as {segment_value: [step rows]}, keeping the frame's segment order."""
    frame = funnel_breakdown(
        DuckDBBackend(path), make_query(DEFAULT_STEPS, window_days, start, end, column, **filters)
    )
    assert list(frame.columns) == ["segment_value", *COLUMNS]
    out = {}
    for segment, *row in frame.itertuples(index=False):
        out.setdefault(segment, []).append(tuple(plain(v) for v in row))
    return out


def default_steps(users, conversions_previous, conversions_first, medians):
    """Rows for page_view, add_to_cart, purchase; step 1 never has a median."""
    return approx_rows([
        (number, name, count, previous, first, median)
        for number, name, count, previous, first, median in zip(
            (1, 2, 3), DEFAULT_STEPS, users, conversions_previous, conversions_first,
            (None, *medians), strict=True,
        )
    ])


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return log_databases(tmp_path_factory.mktemp("funnel"), LOGS)


# The data runs from Thu 29 Feb 2024 (u7's page view) to Thu 21 March (u3's purchase).
SHOP = [
    # (time, user, type, revenue, platform)
    # u1: the plain path, 100 s to the cart, 300 s to the purchase. Step 1 on ios, the later
    # steps on web: a breakdown uses the step-1 event's value (ios).
    ("2024-03-01 10:00:00", "u1", PV, None, "ios"),
    ("2024-03-01 10:01:40", "u1", CART, None, "web"),
    ("2024-03-01 10:06:40", "u1", BUY, 25.0, "web"),
    # u2: purchase before the cart: out of order, so only 2 steps (cart 600 s after the view).
    ("2024-03-02 09:00:00", "u2", PV, None, "web"),
    ("2024-03-02 09:05:00", "u2", BUY, 10.0, "web"),
    ("2024-03-02 09:10:00", "u2", CART, None, "web"),
    # u3: two attempts. 1 Mar (android) reaches the cart after 50 s, then no purchase within
    # 7 days; 20 Mar (web) reaches all 3 (cart 30 s, purchase 1 day later): the best attempt.
    ("2024-03-01 08:00:00", "u3", PV, None, "android"),
    ("2024-03-01 08:00:50", "u3", CART, None, "android"),
    ("2024-03-20 12:00:00", "u3", PV, None, "web"),
    ("2024-03-20 12:00:30", "u3", CART, None, "web"),
    ("2024-03-21 12:00:30", "u3", BUY, 5.0, "web"),
    # u4: the purchase exactly 7 days (to the second) after the view: in. The window counts
    # from step 1, not from the cart (5 days before the purchase). Gaps 2 days, 5 days.
    ("2024-03-03 00:00:00", "u4", PV, None, "ios"),
    ("2024-03-05 00:00:00", "u4", CART, None, "ios"),
    ("2024-03-10 00:00:00", "u4", BUY, 7.0, "ios"),
    # u5: the purchase 7 days and 1 second after the view: out. Cart after exactly 1 day.
    ("2024-03-03 00:00:00", "u5", PV, None, "web"),
    ("2024-03-04 00:00:00", "u5", CART, None, "web"),
    ("2024-03-10 00:00:01", "u5", BUY, 6.0, "web"),
    # u6: all three steps at the same instant: ">=" lets each follow the previous (gaps 0).
    ("2024-03-04 12:00:00", "u6", PV, None, "android"),
    ("2024-03-04 12:00:00", "u6", CART, None, "android"),
    ("2024-03-04 12:00:00", "u6", BUY, 3.0, "android"),
    # u7: step 1 on the leap day's last second, the rest on 1 March (11 s, then 10 s).
    ("2024-02-29 23:59:59", "u7", PV, None, "ios"),
    ("2024-03-01 00:00:10", "u7", CART, None, "ios"),
    ("2024-03-01 00:00:20", "u7", BUY, 9.0, "ios"),
    # u8: a view only (its session is not a step).
    ("2024-03-05 14:59:00", "u8", "session", None, "web"),
    ("2024-03-05 15:00:00", "u8", PV, None, "web"),
    # u9: no step 1, so never in the funnel.
    ("2024-03-06 10:00:00", "u9", CART, None, "web"),
    ("2024-03-06 10:01:00", "u9", BUY, 4.0, "web"),
]


def test_default_funnel_over_all_data(db):
    # Step 1: u1..u8 (u9 has no page view; u3 counts once) = 8.
    # Step 2 (cart): u1 100, u2 600, u3 30 (best attempt), u4 172800, u5 86400, u6 0, u7 11:
    # 7 users; sorted 0, 11, 30, 100, 600, 86400, 172800 -> median 100.
    # Step 3 (purchase): u1 300, u3 86400, u4 432000 (exactly 7 days in), u6 0, u7 10; not u2
    # (purchase before the cart), not u5 (1 s late): 5 users; sorted 0, 10, 300, 86400,
    # 432000 -> median 300.
    assert funnel(db("SHOP")) == default_steps(
        [8, 7, 5], [1.0, 7 / 8, 5 / 7], [1.0, 7 / 8, 5 / 8], [100.0, 300.0]
    )


def test_one_day_window_and_best_attempt_tie(db):
    # Window 1 day: u4's cart (2 days) is out -> 1 step; u5's cart after exactly 1 day is in,
    # -> 2; u3's 20 Mar attempt: purchase 86430 s after the view, out -> 2 steps, and so
    # does its 1 Mar attempt: on a tie the earlier attempt counts (queries/sql/funnel.sql),
    # so its gap is 50 s. u1, u6, u7 all within seconds -> 3; u2 2; u8 1.
    # Step 2: u1 100, u2 600, u3 50, u5 86400, u6 0, u7 11: sorted 0, 11, 50, 100, 600,
    # 86400 -> median (50 + 100) / 2 = 75. Step 3: u1 300, u6 0, u7 10 -> median 10.
    assert funnel(db("SHOP"), window_days=1) == default_steps(
        [8, 6, 3], [1.0, 6 / 8, 3 / 6], [1.0, 6 / 8, 3 / 8], [75.0, 10.0]
    )


def test_window_edge_to_the_second(db):
    path = db("SHOP")
    # Two steps, page_view -> purchase, per user: u4's purchase at 7 days exactly is in, u5's
    # at 7 days + 1 s is out. Users with a purchase after a view within 7 days: u1 (400 s),
    # u2 (300 s; this funnel skips the cart), u3 (attempt 2, 86430 s), u4 (604800 s), u6
    # (0), u7 (21 s): 6 of 8; sorted 0, 21, 300, 400, 86430, 604800 -> median 350.
    assert funnel(path, (PV, BUY)) == approx_rows([
        (1, PV, 8, 1.0, 1.0, None),
        (2, BUY, 6, 6 / 8, 6 / 8, 350.0),
    ])
    # One second more of window (7 days + 1 s) lets u5 in too: 7 of 8; median adds 604801:
    # sorted 0, 21, 300, 400, 86430, 604800, 604801 -> 400.
    assert funnel(path, (PV, BUY), window_days=7 + 1 / DAY) == approx_rows([
        (1, PV, 8, 1.0, 1.0, None),
        (2, BUY, 7, 7 / 8, 7 / 8, 400.0),
    ])


def test_steps_out_of_order_do_not_count(db):
    path = db("SHOP")
    # The default funnel above: u2 bought 5 minutes before its cart, so it stops at step 2.
    # Reversed, purchase -> add_to_cart: buyers u1..u7 and u9 = 8. A cart at or after the
    # purchase: u2 (300 s) and u6 (same second, 0 s); u1, u5, u7 and u9 added to cart before
    # buying, u3 and u4 too. Median (0 + 300) / 2 = 150.
    assert funnel(path, (BUY, CART)) == approx_rows([
        (1, BUY, 8, 1.0, 1.0, None),
        (2, CART, 2, 2 / 8, 2 / 8, 150.0),
    ])
    # add_to_cart -> page_view: 8 cart users (u1..u7, u9). A view at or after the cart: only
    # u6, whose view shares the cart's second (">=" allows it): 0 s. u3's 20 Mar view is 19
    # days after its 1 Mar cart, outside the window.
    assert funnel(path, (CART, PV)) == approx_rows([
        (1, CART, 8, 1.0, 1.0, None),
        (2, PV, 1, 1 / 8, 1 / 8, 0.0),
    ])


def test_date_range_keeps_users_whose_step_1_is_inside(db):
    path = db("SHOP")
    # From 1 March: u7's view (29 Feb 23:59:59) is outside, so u7 is not counted although its
    # cart and purchase are inside. u3's both attempts are in: the 20 Mar one counts.
    # Step 1: 7. Step 2: u1 100, u2 600, u3 30, u4 172800, u5 86400, u6 0 -> 6; median
    # (100 + 600) / 2 = 350. Step 3: u1 300, u3 86400, u4 432000, u6 0 -> 4; median
    # (300 + 86400) / 2 = 43350.
    assert funnel(path, start=D(2024, 3, 1)) == default_steps(
        [7, 6, 4], [1.0, 6 / 7, 4 / 6], [1.0, 6 / 7, 4 / 7], [350.0, 43350.0]
    )
    # [1 Mar, 5 Mar]: u3 only has its 1 Mar attempt (cart 50 s, no purchase); u4's purchase
    # on 10 Mar is after the range but inside its window, so it counts. Step 2: u1 100, u2
    # 600, u3 50, u4 172800, u5 86400, u6 0 -> 6, median 350. Step 3: u1 300, u4 432000, u6
    # 0 -> 3, median 300.
    assert funnel(path, start=D(2024, 3, 1), end=D(2024, 3, 5)) == default_steps(
        [7, 6, 3], [1.0, 6 / 7, 3 / 6], [1.0, 6 / 7, 3 / 7], [350.0, 300.0]
    )
    # [2 Mar, 4 Mar]: u2, u4, u5, u6. Step 2: all four, 600, 172800, 86400, 0 -> median
    # (600 + 86400) / 2 = 43500. Step 3: u4 432000, u6 0 -> median 216000.
    assert funnel(path, start=D(2024, 3, 2), end=D(2024, 3, 4)) == default_steps(
        [4, 4, 2], [1.0, 1.0, 0.5], [1.0, 1.0, 0.5], [43500.0, 216000.0]
    )
    # Up to 29 Feb (the end day is whole): only u7, 11 s and 10 s.
    assert funnel(path, end=D(2024, 2, 29)) == default_steps(
        [1, 1, 1], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [11.0, 10.0]
    )
    # 5 March: u8's view only: nobody goes on; from a step with 0 users, conversion is empty.
    assert funnel(path, start=D(2024, 3, 5), end=D(2024, 3, 5)) == default_steps(
        [1, 0, 0], [1.0, 0.0, None], [1.0, 0.0, 0.0], [None, None]
    )
    # No view in [15 Mar, 19 Mar]: zero users, every rate and median empty.
    assert funnel(path, start=D(2024, 3, 15), end=D(2024, 3, 19)) == default_steps(
        [0, 0, 0], [None] * 3, [None] * 3, [None, None]
    )


def test_segment_filter_applies_to_every_step(db):
    # iOS events only: u1's cart and purchase are web, so u1 stops at step 1; u4 and u7 reach
    # all three. Step 2: 172800, 11 -> median 86405.5; step 3: 432000, 10 -> 216005.
    assert funnel(db("SHOP"), platform=["ios"]) == default_steps(
        [3, 2, 2], [1.0, 2 / 3, 1.0], [1.0, 2 / 3, 2 / 3], [86405.5, 216005.0]
    )
    with pytest.raises(FilterError, match="nosuch"):
        funnel(db("SHOP"), nosuch=["x"])


def test_breakdown_uses_the_step_1_events_value(db):
    # Per user, the platform of the best attempt's page view: ios u1 (later steps on web),
    # u4, u7; web u2, u3 (its 20 Mar attempt; the 1 Mar one was android), u5, u8; android
    # u6. Largest segment first.
    segments = by_segment(db("SHOP"))
    assert list(segments) == ["web", "ios", "android"]
    # web: 4 views; carts u2 600, u3 30, u5 86400 -> 3, median 600; purchase u3 86400.
    assert segments["web"] == default_steps(
        [4, 3, 1], [1.0, 3 / 4, 1 / 3], [1.0, 3 / 4, 1 / 4], [600.0, 86400.0]
    )
    # ios: all three go through: carts 100, 172800, 11 -> 100; purchases 300, 432000, 10 -> 300.
    assert segments["ios"] == default_steps(
        [3, 3, 3], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [100.0, 300.0]
    )
    assert segments["android"] == default_steps(
        [1, 1, 1], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0]
    )


def test_breakdown_follows_the_chosen_attempt(db):
    # With a 1-day window u3's best attempt is the 1 Mar one (a tie at 2 steps, the earlier
    # wins), whose view is on android. android: u3 (cart 50 s), u6 (0, 0) -> 2, 2, 1;
    # medians 25 and 0. web: u2 600, u5 86400, u8 -> 3, 2, 0. ios: u1 (100, 300), u4 (cart
    # 2 days: out), u7 (11, 10) -> 3, 2, 2; medians 55.5 and 155.
    segments = by_segment(db("SHOP"), window_days=1)
    assert segments == {
        "android": default_steps([2, 2, 1], [1.0, 1.0, 0.5], [1.0, 1.0, 0.5], [25.0, 0.0]),
        "web": default_steps([3, 2, 0], [1.0, 2 / 3, 0.0], [1.0, 2 / 3, 0.0], [43500.0, None]),
        "ios": default_steps([3, 2, 2], [1.0, 2 / 3, 1.0], [1.0, 2 / 3, 2 / 3], [55.5, 155.0]),
    }
    # Every user is in exactly one segment: the segments add up to the whole funnel.
    whole = funnel(db("SHOP"), window_days=1)
    for step in range(3):
        assert sum(rows[step][2] for rows in segments.values()) == whole[step][2]


def test_breakdown_with_filter_and_range(db):
    # iOS only, from 1 March (u7 out): u1 (1 step), u4 (3 steps).
    assert by_segment(db("SHOP"), start=D(2024, 3, 1), platform=["ios"]) == {
        "ios": default_steps([2, 1, 1], [1.0, 0.5, 1.0], [1.0, 0.5, 0.5], [172800.0, 432000.0]),
    }
    # No view in range: no segments at all.
    empty = funnel_breakdown(
        DuckDBBackend(db("SHOP")),
        make_query(start=D(2024, 3, 15), end=D(2024, 3, 19), breakdown="platform"),
    )
    assert empty.empty and list(empty.columns) == ["segment_value", *COLUMNS]
    with pytest.raises(FilterError, match="nosuch"):
        by_segment(db("SHOP"), column="nosuch")


NULL_SEGMENT = [
    ("2024-01-01 10:00:00", "n1", PV, None, None),
    ("2024-01-01 10:00:01", "n1", CART, None, "web"),
    ("2024-01-02 10:00:00", "w1", PV, None, "web"),
    ("2024-01-02 10:00:00", "w2", PV, None, "web"),
]


def test_breakdown_labels_a_missing_value_like_the_revenue_breakdown(db):
    # n1's view has no platform: its segment should be '(none)', as in revenue_breakdown.
    segments = by_segment(db("NULL_SEGMENT"), start=D(2024, 1, 1))
    assert sorted(segments) == ["(none)", "web"]


# Repeated steps. All on 1 May 2024.
REPEATS = [
    ("2024-05-01 10:00:00", "r1", PV),   # two views in the same second: not "later"
    ("2024-05-01 10:00:00", "r1", PV),
    ("2024-05-01 11:00:00", "r2", PV),   # one view only
    ("2024-05-01 12:00:00", "r3", PV),   # a second view 5 s later
    ("2024-05-01 12:00:05", "r3", PV),
    ("2024-05-01 13:00:00", "r4", PV),   # three views: 7 s, then 13 s
    ("2024-05-01 13:00:07", "r4", PV),
    ("2024-05-01 13:00:20", "r4", PV),
    ("2024-05-01 14:00:00", "r5", PV),   # one view, a cart in the same second
    ("2024-05-01 14:00:00", "r5", CART),
    ("2024-05-01 15:00:00", "r6", PV),   # view, cart 60 s later, another view 60 s later
    ("2024-05-01 15:01:00", "r6", CART),
    ("2024-05-01 15:02:00", "r6", PV),
]


def test_repeated_step_needs_a_second_later_event(db):
    path = db("REPEATS")
    # page_view, page_view: 6 users view; a second, later view: r3 (5 s), r4 (7 s), r6
    # (120 s). r1's two views share a second, r2 and r5 have one. Median of 5, 7, 120 = 7.
    assert funnel(path, (PV, PV)) == approx_rows([
        (1, PV, 6, 1.0, 1.0, None),
        (2, PV, 3, 0.5, 0.5, 7.0),
    ])
    # Three views: only r4 (13 s after its second view).
    assert funnel(path, (PV, PV, PV)) == approx_rows([
        (1, PV, 6, 1.0, 1.0, None),
        (2, PV, 3, 0.5, 0.5, 7.0),
        (3, PV, 1, 1 / 3, 1 / 6, 13.0),
    ])


def test_repeated_step_two_apart_needs_another_event(db):
    # page_view, add_to_cart, page_view: carts after a view: r5 (0 s), r6 (60 s) -> median
    # 30. A second view after the cart: only r6 (60 s). r5 has a single view, which is
    # already step 1.
    assert funnel(db("REPEATS"), (PV, CART, PV)) == approx_rows([
        (1, PV, 6, 1.0, 1.0, None),
        (2, CART, 2, 2 / 6, 2 / 6, 30.0),
        (3, PV, 1, 0.5, 1 / 6, 60.0),
    ])


# Later steps sharing a second, and steps before the date range. 1 June 2024 unless said.
TIES = [
    ("2024-06-01 10:00:00", "s1", PV),    # two carts in the same second 60 s after the view,
    ("2024-06-01 10:01:00", "s1", CART),  # a purchase 60 s later
    ("2024-06-01 10:01:00", "s1", CART),
    ("2024-06-01 10:02:00", "s1", BUY),
    ("2024-05-31 09:00:00", "s2", CART),  # a cart and a purchase the day before, then a view,
    ("2024-05-31 09:00:00", "s2", BUY),   # a cart 30 s later and two purchases in the same
    ("2024-06-01 11:00:00", "s2", PV),    # second 30 s after that
    ("2024-06-01 11:00:30", "s2", CART),
    ("2024-06-01 11:01:00", "s2", BUY),
    ("2024-06-01 11:01:00", "s2", BUY),
    ("2024-06-01 12:00:00", "s3", PV),    # two views in the same second, a third 10 s later
    ("2024-06-01 12:00:00", "s3", PV),
    ("2024-06-01 12:00:10", "s3", PV),
]


def test_later_steps_sharing_a_second_count_once(db):
    path = db("TIES")
    # From 1 June. Step 1: s1, s2, s3. Carts: s1 60 s (either of its two), s2 30 s (its 31 May
    # cart is before the view) -> median 45. Purchases: s1 60 s, s2 30 s -> 45.
    assert funnel(path, start=D(2024, 6, 1)) == default_steps(
        [3, 2, 2], [1.0, 2 / 3, 1.0], [1.0, 2 / 3, 2 / 3], [45.0, 45.0]
    )
    # From 31 May nothing changes: s2 has no view on 31 May.
    assert funnel(path, start=D(2024, 5, 31)) == funnel(path, start=D(2024, 6, 1))
    # page_view, page_view, page_view: s3 only has a later view after its first second (10 s);
    # no view follows that one, and its same-second views are not later than each other.
    assert funnel(path, (PV, PV, PV)) == approx_rows([
        (1, PV, 3, 1.0, 1.0, None),
        (2, PV, 1, 1 / 3, 1 / 3, 10.0),
        (3, PV, 0, 0.0, 0.0, None),
    ])


def test_invalid_queries_are_parameter_errors():
    with pytest.raises(ParameterError, match="2 to 10 steps"):
        FunnelQuery(steps=(PV,))
    with pytest.raises(ParameterError, match="2 to 10 steps"):
        FunnelQuery(steps=(PV,) * 11)
    with pytest.raises(ParameterError, match="empty"):
        FunnelQuery(steps=(PV, ""))
    for days in (0, -1, 367):
        with pytest.raises(ParameterError, match="window"):
            FunnelQuery(window_days=days)
    with pytest.raises(ParameterError, match="after"):
        FunnelQuery(start=D(2024, 3, 2), end=D(2024, 3, 1))
    assert FunnelQuery(steps=(PV,) * 10, window_days=366).steps == (PV,) * 10


LOGS = {
    "SHOP": (SHOP, ("platform",)),
    "NULL_SEGMENT": (NULL_SEGMENT, ("platform",)),
    "REPEATS": (REPEATS, ()),
    "TIES": (TIES, ()),
}


# ---- Second method: brute force in plain Python on the demo data --------------------------

DEMO_END = D(2024, 2, 29)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = generate_demo(users=1500, seed=5, end_date=DEMO_END)
    path = tmp_path_factory.mktemp("funnel_demo") / "demo.duckdb"
    load(path, Source("demo-events", table=data.events))
    events = data.events.to_pandas()
    micros = events["event_time"].to_numpy().astype("datetime64[us]").astype(np.int64)
    # Per user and event type, the sorted times (microseconds) and, per time, the platform.
    times: dict = defaultdict(lambda: defaultdict(list))
    platform_at: dict = {}
    for user, kind, when, platform in zip(
        events["user_id"], events["event_type"], micros.tolist(), events["platform"], strict=True
    ):
        times[user][kind].append(when)
        platform_at[user, kind, when] = platform
    for per_type in times.values():
        for values in per_type.values():
            values.sort()
    return path, times, platform_at


def reference_funnel(demo, steps, window_days, start=None, end=None, by_platform=False):
    """Every step-1 event in range is an attempt; from it, each next step is the earliest
    event of that type at or after the previous step (strictly after for a repeated step)
    and at most the window after step 1. Each user keeps the attempt reaching most steps
    (the earliest on a tie). Returns {segment: (users per step, median gaps per step)}."""
    _, times, platform_at = demo
    window = round(window_days * DAY) * 1_000_000
    low = -(2**62) if start is None else _micros(start)
    high = 2**62 if end is None else _micros(end + dt.timedelta(days=1))
    reached = defaultdict(lambda: [[] for _ in steps])  # segment -> per step, the gaps
    for user, per_type in times.items():
        best = None
        for anchor in per_type.get(steps[0], []):
            if not low <= anchor < high:
                continue
            path = [anchor]
            for number in range(1, len(steps)):
                candidates = per_type.get(steps[number], [])
                same = steps[number] == steps[number - 1]
                index = (bisect_right if same else bisect_left)(candidates, path[-1])
                if index < len(candidates) and candidates[index] <= anchor + window:
                    path.append(candidates[index])
                else:
                    break
            if best is None or len(path) > len(best):
                best = path
        if best is None:
            continue
        segment = platform_at[user, steps[0], best[0]] if by_platform else "all"
        reached[segment][0].append(None)
        for number in range(1, len(best)):
            reached[segment][number].append((best[number] - best[number - 1]) / 1_000_000)
    return {
        segment: (
            [len(gaps) for gaps in per_step],
            [None] + [statistics.median(gaps) if gaps else None for gaps in per_step[1:]],
        )
        for segment, per_step in reached.items()
    }


def _micros(day: dt.date) -> int:
    return int(np.datetime64(day.isoformat(), "us").astype(np.int64))


def expected_rows(steps, users, medians):
    rows, previous = [], users[0]
    for number, (name, count, median) in enumerate(zip(steps, users, medians, strict=True), 1):
        rows.append((
            number, name, count, count / previous if previous else None,
            count / users[0] if users[0] else None, median,
        ))
        previous = count
    return approx_rows(rows)


CONFIGS = {
    "7d-all": (7, None, None),
    "1d-all": (1, None, None),
    "7d-range": (7, D(2023, 12, 1), D(2024, 1, 31)),
}


@pytest.mark.parametrize("config", CONFIGS)
def test_matches_brute_force_on_demo_data(demo, config):
    window_days, start, end = CONFIGS[config]
    (users, medians), = reference_funnel(demo, DEFAULT_STEPS, window_days, start, end).values()
    assert users[0] > 100 and 0 < users[2] < users[1] < users[0]
    actual = funnel(demo[0], DEFAULT_STEPS, window_days, start, end)
    assert actual == expected_rows(DEFAULT_STEPS, users, medians)


def test_breakdown_matches_brute_force_on_demo_data(demo):
    start, end = D(2023, 12, 1), D(2024, 1, 31)
    expected = reference_funnel(demo, DEFAULT_STEPS, 7, start, end, by_platform=True)
    actual = by_segment(demo[0], start=start, end=end)
    assert sorted(actual) == sorted(expected) == ["android", "ios", "web"]
    for segment, (users, medians) in expected.items():
        assert actual[segment] == expected_rows(DEFAULT_STEPS, users, medians)
    # Largest first.
    assert list(actual) == sorted(expected, key=lambda s: -expected[s][0][0])


@pytest.mark.parametrize(
    "steps", [(PV, PV, CART), (PV, CART, PV)], ids=["pv-pv-cart", "pv-cart-pv"]
)
def test_repeated_steps_match_brute_force_on_demo_data(demo, steps):
    # The demo's sessions hold several views seconds to minutes apart (never in the same
    # microsecond), and a view may follow a cart in a later session.
    start, end = D(2024, 1, 1), D(2024, 1, 31)
    (users, medians), = reference_funnel(demo, steps, 1, start, end).values()
    assert 0 < users[2] < users[1] <= users[0]
    assert funnel(demo[0], steps, 1, start, end) == expected_rows(steps, users, medians)
