"""`python -m app export retention` as a real subprocess, against a small event log made by hand.

Every expected row below is derived by hand in the comments, from the event log alone.
Definitions (queries/retention.py): a user's cohort is their first active period (first
start event; any event by default) over the whole history; period_index k counts periods
since it. Exact mode: retained = cohort members active (a return event; any event by
default) in period cohort + k; unbounded mode: in cohort + k or any later period. Cells run
from k = 0 to the period holding the data's last day; a cell is incomplete when its period
ends after that day. --start/--end keep the cohorts whose period starts inside the range.
Weeks start on Monday.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, ok, run_all

REPO_ROOT = Path(__file__).resolve().parent.parent
HEADER = "cohort_start,cohort_size,period_index,retained_users,retention_rate,is_complete"

# Weeks: W1 = Mon 2024-01-01, W2 = 01-08, W3 = 01-15, W4 = 01-22, W5 = 01-29. The data ends
# Wed 2024-01-31, so W5 is incomplete.
EVENTS = """\
event_time,user_id,event_type,revenue,platform
2024-01-01 09:00:00,a,session,,ios
2024-01-03 10:00:00,b,session,,web
2024-01-08T00:59:00+01:00,c,session,,ios
2024-01-07T19:00:00-05:00,d,session,,web
2024-01-09 08:00:00,a,purchase,10,ios
2024-01-10 12:00:00,b,purchase,5,web
2024-01-16 09:00:00,d,session,,web
2024-01-24 11:00:00,a,purchase,3,ios
2024-01-24 12:00:00,c,purchase,7,ios
2024-01-31 18:00:00,e,session,,ios
"""
# In UTC, c's first event is Sunday 2024-01-07 23:59 (W1) and d's is Monday 01-08 00:00 (W2).
# Active weeks: a {W1, W2, W4}; b {W1, W2}; c {W1, W4}; d {W2, W3}; e {W5}.
# Cohorts: W1 {a, b, c}; W2 {d}; W3, W4 none; W5 {e}.
EXACT_W1 = [
    "2024-01-01,3,0,3,1.0,true",
    # k1 = W2: a, b.
    "2024-01-01,3,1,2,0.6666666666666666,true",
    # k2 = W3: nobody (an empty cell, still listed).
    "2024-01-01,3,2,0,0.0,true",
    # k3 = W4: a, c.
    "2024-01-01,3,3,2,0.6666666666666666,true",
    # k4 = W5: nobody; W5 is incomplete.
    "2024-01-01,3,4,0,0.0,false",
]
EXACT_W2 = [
    # d: k1 = W3 yes; k2 = W4, k3 = W5 no.
    "2024-01-08,1,0,1,1.0,true",
    "2024-01-08,1,1,1,1.0,true",
    "2024-01-08,1,2,0,0.0,true",
    "2024-01-08,1,3,0,0.0,false",
]
EXACT_W5 = ["2024-01-29,1,0,1,1.0,false"]
EXACT = [*EXACT_W1, *EXACT_W2, *EXACT_W5]

UNBOUNDED = [
    "2024-01-01,3,0,3,1.0,true",
    # k1 = W2 or later: a (W2, W4), b (W2), c (W4) -> 3.
    "2024-01-01,3,1,3,1.0,true",
    # k2 = W3 or later: a, c (both W4) -> 2; b was last seen in W2.
    "2024-01-01,3,2,2,0.6666666666666666,true",
    # k3 = W4 or later: a, c.
    "2024-01-01,3,3,2,0.6666666666666666,true",
    # k4 = W5: nobody.
    "2024-01-01,3,4,0,0.0,false",
    # d last active W3: k1 = 1, then 0.
    "2024-01-08,1,0,1,1.0,true",
    "2024-01-08,1,1,1,1.0,true",
    "2024-01-08,1,2,0,0.0,true",
    "2024-01-08,1,3,0,0.0,false",
    *EXACT_W5,
]

# --start-event purchase --return-event purchase: purchases a {W2, W4}, b {W2}, c {W4}.
# Cohorts: W2 {a, b}; W4 {c}. d and e never purchase.
PURCHASES = [
    "2024-01-08,2,0,2,1.0,true",
    # k1 = W3: nobody.
    "2024-01-08,2,1,0,0.0,true",
    # k2 = W4: a.
    "2024-01-08,2,2,1,0.5,true",
    # k3 = W5: nobody; incomplete.
    "2024-01-08,2,3,0,0.0,false",
    "2024-01-22,1,0,1,1.0,true",
    "2024-01-22,1,1,0,0.0,false",
]

# --start-event session --return-event purchase: cohorts by first session are the default
# ones (W1 {a, b, c}; W2 {d}; W5 {e}), but only purchases count as coming back.
SESSION_THEN_PURCHASE = [
    # k0 = W1: nobody purchased in W1, so 0% at k0.
    "2024-01-01,3,0,0,0.0,true",
    # k1 = W2: a, b.
    "2024-01-01,3,1,2,0.6666666666666666,true",
    "2024-01-01,3,2,0,0.0,true",
    # k3 = W4: a, c.
    "2024-01-01,3,3,2,0.6666666666666666,true",
    "2024-01-01,3,4,0,0.0,false",
    # d and e never purchase.
    "2024-01-08,1,0,0,0.0,true",
    "2024-01-08,1,1,0,0.0,true",
    "2024-01-08,1,2,0,0.0,true",
    "2024-01-08,1,3,0,0.0,false",
    "2024-01-29,1,0,0,0.0,false",
]

# --filter platform=ios: ios events are a W1, W2, W4; c W1 (Sunday 23:59 UTC), W4; e W5.
# b and d have web events only. Cohorts: W1 {a, c}; W5 {e}.
IOS = [
    "2024-01-01,2,0,2,1.0,true",
    # k1 = W2: a.
    "2024-01-01,2,1,1,0.5,true",
    "2024-01-01,2,2,0,0.0,true",
    # k3 = W4: a, c.
    "2024-01-01,2,3,2,1.0,true",
    "2024-01-01,2,4,0,0.0,false",
    *EXACT_W5,
]

# By month: every user's first event is in January, and the data ends 31 January, the last
# day of the month: one complete cell.
MONTHLY = ["2024-01-01,5,0,5,1.0,true"]




def csv_text(rows: list[str]) -> str:
    return "\n".join([HEADER, *rows]) + "\n"




@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export_retention")


@pytest.fixture(scope="module")
def exports(folder) -> dict[str, subprocess.CompletedProcess]:
    (folder / "events.csv").write_text(EVENTS)
    db = folder / "events.duckdb"
    # Requests refused before any data is read run alongside the load, against a database
    # that never exists: their error must be about the request, not the missing file.
    absent = ["export", "retention", "--db", folder / "absent.duckdb", "--grain", "week"]
    first = run_all({
        "load": ["load", folder / "events.csv", "--db", db],
        "unknown_mode": [*absent, "--mode", "sometimes"],
        "start_after_end": [*absent, "--start", "2024-02-01", "--end", "2024-01-31"],
    })
    assert first["load"].returncode == 0, first["load"].stderr
    base = ["export", "retention", "--db", db]
    weekly = [*base, "--grain", "week"]
    return first | run_all({
        "defaults": base,
        "unbounded_to_file": [*weekly, "--mode", "unbounded", "-o", folder / "unbounded.csv"],
        "monthly": [*base, "--grain", "month"],
        "start_on_monday": [*weekly, "--start", "2024-01-08", "--end", "2024-01-08"],
        "start_midweek": [*weekly, "--start", "2024-01-10"],
        "purchases": [*weekly, "--start-event", "purchase", "--return-event", "purchase"],
        "session_then_purchase": [
            *weekly, "--start-event", "session", "--return-event", "purchase",
        ],
        "ios": [*weekly, "--mode", "exact", "--filter", "platform=ios"],
        "unknown_filter_column": [*weekly, "--filter", "nosuch=1"],
    })




def test_header_is_exact(exports):
    assert ok(exports["defaults"]).splitlines()[0] == HEADER


def test_exact_weekly_export_matches_hand_derived_rows(exports):
    # Without --grain and --mode: weeks, exact mode. Exact text: column order, ISO dates,
    # repr floats, true/false. (--mode exact is given explicitly in the --filter run.)
    assert ok(exports["defaults"]) == csv_text(EXACT)


def test_unbounded_mode_written_to_a_file(exports, folder):
    # With -o nothing goes to stdout; the file holds the CSV.
    assert ok(exports["unbounded_to_file"]) == ""
    assert (folder / "unbounded.csv").read_text() == csv_text(UNBOUNDED)


def test_monthly_export(exports):
    assert ok(exports["monthly"]) == csv_text(MONTHLY)


def test_start_on_a_monday_selects_that_week_with_later_activity(exports):
    # Only W2's cohort starts inside [2024-01-08, 2024-01-08] (W1 starts before, W5 after);
    # its cells still run to W5, and d's W3 return (outside the range) counts.
    assert ok(exports["start_on_monday"]) == csv_text(EXACT_W2)


def test_start_midweek_excludes_that_weeks_cohort(exports):
    # --start Wed 2024-01-10: W2's cohort starts Monday 01-08, before the range: only W5.
    assert ok(exports["start_midweek"]) == csv_text(EXACT_W5)


def test_start_and_return_events(exports):
    assert ok(exports["purchases"]) == csv_text(PURCHASES)
    assert ok(exports["session_then_purchase"]) == csv_text(SESSION_THEN_PURCHASE)


def test_filter_on_a_segment_column(exports):
    assert ok(exports["ios"]) == csv_text(IOS)


# (what the message must name, whether argparse rejects it before the app runs)
ERRORS = {
    "unknown_mode": ("'sometimes'", True),
    "start_after_end": ("start date 2024-02-01 is after end date 2024-01-31", False),
    "unknown_filter_column": ("'nosuch'", False),
}


@pytest.mark.parametrize("name", ERRORS)
def test_bad_request_is_a_one_line_error(exports, name):
    assert_one_line_error(exports[name], *ERRORS[name])


def test_refused_requests_create_no_database(exports, folder):
    assert exports["unknown_mode"].returncode != 0
    assert exports["start_after_end"].returncode != 0
    assert not (folder / "absent.duckdb").exists()
