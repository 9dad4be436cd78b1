"""`python -m app export revenue | revenue-window | funnel` as real subprocesses, against a small
event log made by hand. Every expected row below is derived by hand in the comments.

Definitions: revenue is the sum of `revenue`, an order is an event with a revenue value (0
included), AOV = revenue / orders (empty without orders); periods from the first with events
to the one holding the data's last day, a period ending after that day is incomplete; weeks
start on Monday. revenue-window compares [start, end] (whole UTC days) with the n days just
before; delta_pct is empty when the previous revenue is 0. A funnel counts users whose step 1
is in the range, each next step at or after the previous one and within the window from step 1.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.storage import Source, load
from tests.cli import assert_one_line_error, ok, run_all

REPO_ROOT = Path(__file__).resolve().parent.parent
REVENUE_HEADER = "period_start,revenue,orders,paying_users,aov,is_complete"
WINDOW_HEADER = (
    "start,end,revenue,previous_start,previous_end,previous_revenue,delta,delta_pct,orders,"
    "previous_orders"
)
FUNNEL_HEADER = (
    "step,event_type,users,conversion_from_previous,conversion_from_first,"
    "median_seconds_from_previous"
)

# Weeks: Mon 2024-01-29, 02-05, 02-12. The data ends Wed 2024-02-14: the last week is
# incomplete, and so is February.
EVENTS = """\
event_time,user_id,event_type,revenue,platform
2024-01-29 10:00:00,a,page_view,,ios
2024-01-29 10:01:00,a,add_to_cart,,ios
2024-01-29 10:03:00,a,purchase,20.5,ios
2024-02-01T05:29:59+05:30,b,purchase,10,web
2024-01-31T19:00:00-05:00,b,page_view,,web
2024-02-01 00:05:00,b,add_to_cart,,web
2024-02-06 09:00:00,c,purchase,0,ios
2024-02-14 12:00:00,c,page_view,,ios
"""
# In UTC, b's purchase is Wed 2024-01-31 23:59:59 and its page view Thu 02-01 00:00:00.
# Orders: a 20.5 (Mon 01-29), b 10 (01-31 23:59:59), c 0 (Tue 02-06).

WEEKLY = [
    # Week of 01-29: a 20.5 + b 10 = 30.5, 2 orders by 2 users, AOV 15.25; ends 02-04.
    "2024-01-29,30.5,2,2,15.25,true",
    # Week of 02-05: c's free order: revenue 0, 1 order, AOV 0.
    "2024-02-05,0.0,1,1,0.0,true",
    # Week of 02-12: a page view only: no order, AOV empty; ends after 02-14.
    "2024-02-12,0.0,0,0,,false",
]
# January holds b's order (23:59:59 UTC, not 1 Feb as in Kolkata); February ends after 02-14.
MONTHLY = ["2024-01-01,30.5,2,2,15.25,true", "2024-02-01,0.0,1,1,0.0,false"]
# [02-01, 02-14] is 14 days; previous [01-18, 01-31]. Current: c's 0 (1 order); previous:
# 20.5 + 10 (b's 23:59:59 order is the day before start) = 30.5 over 2. Delta -30.5,
# -100%: delta_pct is a percentage, as exec-kpi's (cur - prev) / prev * 100.
WINDOW_FEB = "2024-02-01,2024-02-14,0.0,2024-01-18,2024-01-31,30.5,-30.5,-100.0,1,2"
# [01-31, 01-31] against 01-30: b's order at 23:59:59 on the end day is in; nothing before.
WINDOW_JAN31 = "2024-01-31,2024-01-31,10.0,2024-01-30,2024-01-30,0.0,10.0,,1,0"
# Web, [01-29, 02-04] against [01-22, 01-28]: b's 10 against nothing.
WINDOW_WEB = "2024-01-29,2024-02-04,10.0,2024-01-22,2024-01-28,0.0,10.0,,1,0"
# [03-01, 03-07] against [02-23, 02-29]: no order in either window.
WINDOW_EMPTY = "2024-03-01,2024-03-07,0.0,2024-02-23,2024-02-29,0.0,0.0,,0,0"

# Default funnel, 7 days: views a (01-29 10:00), b (02-01 00:00), c (02-14). Carts: a 60 s,
# b 300 s -> median 180. Purchase: a 120 s after its cart; b bought before its view.
FUNNEL = [
    "1,page_view,3,1.0,1.0,",
    "2,add_to_cart,2,0.6666666666666666,0.6666666666666666,180.0",
    "3,purchase,1,0.5,0.3333333333333333,120.0",
]
# iOS, 1-day window, from 01-30: a's view (01-29) is before the range, b's is web: only c's
# (02-14), who never adds to cart afterwards. After a step with 0 users, conversion is empty.
FUNNEL_IOS_FROM_JAN30 = [
    "1,page_view,1,1.0,1.0,",
    "2,add_to_cart,0,0.0,0.0,",
    "3,purchase,0,,0.0,",
]






def csv_text(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export_revenue")


@pytest.fixture(scope="module")
def exports(folder) -> dict[str, subprocess.CompletedProcess]:
    # The database is built in-process through the app's loader (`load` itself is tested in
    # test_cli_load.py); every export below is a real subprocess, all run in one batch.
    (folder / "events.csv").write_text(EVENTS)
    db = folder / "events.duckdb"
    load(db, Source("events.csv", path=folder / "events.csv"))
    # Requests refused before any data is read run against a database that never exists:
    # their error must be about the request, not the missing file.
    absent = ["--db", folder / "absent.duckdb"]
    revenue = ["export", "revenue", "--db", db]
    window = ["export", "revenue-window", "--db", db]
    funnel = ["export", "funnel", "--db", db]
    return run_all({
        "revenue_weekly": [*revenue, "--grain", "week"],
        "revenue_monthly_to_file": [*revenue, "--grain", "month", "-o", folder / "monthly.csv"],
        "window_feb": [*window, "--start", "2024-02-01", "--end", "2024-02-14"],
        "window_jan31_to_file": [*window, "--start", "2024-01-31", "--end", "2024-01-31",
                                 "-o", folder / "window.csv"],
        "window_web": [*window, "--start", "2024-01-29", "--end", "2024-02-04",
                       "--filter", "platform=web"],
        "window_empty": [*window, "--start", "2024-03-01", "--end", "2024-03-07"],
        "funnel_default": funnel,
        "funnel_ios_to_file": [
            *funnel, "--steps", "page_view,add_to_cart,purchase", "--window-days", "1",
            "--start", "2024-01-30", "--filter", "platform=ios", "-o", folder / "funnel.csv",
        ],
        "window_without_end": ["export", "revenue-window", *absent, "--start", "2024-02-01"],
        "window_start_after_end": [
            "export", "revenue-window", *absent, "--start", "2024-02-01", "--end", "2024-01-31",
        ],
        "funnel_one_step": ["export", "funnel", *absent, "--steps", "page_view"],
        "revenue_unknown_filter": [*revenue, "--filter", "nosuch=1"],
    })




@pytest.mark.parametrize(
    ("name", "header"),
    [("revenue_weekly", REVENUE_HEADER), ("window_feb", WINDOW_HEADER),
     ("funnel_default", FUNNEL_HEADER)],
)
def test_headers_are_exact(exports, name, header):
    assert ok(exports[name]).splitlines()[0] == header


def test_revenue_weekly(exports):
    # Without --grain the default is weeks too; here it is given.
    assert ok(exports["revenue_weekly"]) == csv_text(REVENUE_HEADER, WEEKLY)


def test_revenue_monthly_written_to_a_file(exports, folder):
    assert ok(exports["revenue_monthly_to_file"]) == ""
    assert (folder / "monthly.csv").read_text() == csv_text(REVENUE_HEADER, MONTHLY)


def test_revenue_window(exports, folder):
    assert ok(exports["window_feb"]) == csv_text(WINDOW_HEADER, [WINDOW_FEB])
    assert ok(exports["window_web"]) == csv_text(WINDOW_HEADER, [WINDOW_WEB])
    assert ok(exports["window_jan31_to_file"]) == ""
    assert (folder / "window.csv").read_text() == csv_text(WINDOW_HEADER, [WINDOW_JAN31])


def test_revenue_window_without_any_order(exports):
    assert ok(exports["window_empty"]) == csv_text(WINDOW_HEADER, [WINDOW_EMPTY])


def test_funnel(exports, folder):
    # Without --steps and --window-days: page_view, add_to_cart, purchase within 7 days.
    assert ok(exports["funnel_default"]) == csv_text(FUNNEL_HEADER, FUNNEL)
    assert ok(exports["funnel_ios_to_file"]) == ""
    assert (folder / "funnel.csv").read_text() == csv_text(FUNNEL_HEADER, FUNNEL_IOS_FROM_JAN30)


# (what the message must name, whether argparse rejects it before the app runs)
ERRORS = {
    "window_without_end": ("needs both --start and --end", False),
    "window_start_after_end": ("start date 2024-02-01 is after end date 2024-01-31", False),
    "funnel_one_step": ("at least two", True),
    "revenue_unknown_filter": ("'nosuch'", False),
}


@pytest.mark.parametrize("name", ERRORS)
def test_bad_request_is_a_one_line_error(exports, name):
    assert_one_line_error(exports[name], *ERRORS[name])


def test_refused_requests_create_no_database(exports, folder):
    assert not (folder / "absent.duckdb").exists()
