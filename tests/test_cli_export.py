"""`python -m app export growth` as a real subprocess, against small event logs made by hand.

Every expected row below is derived by hand in the comments, from the event log alone.
Definitions (queries/growth.py): new = first active period ever; retained = active in this
and the previous period; resurrected = active before, but not in the previous period;
churned = active in the previous period, not this one; active = new + retained + resurrected;
retention_rate = retained / active of the previous period (empty when that is 0 or there is
no previous period); quick_ratio = (new + resurrected) / churned (empty when churned is 0).
Weeks start on Monday; a period is complete when it ends on or before the data's last day.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, ok, run_all

REPO_ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "period_start,new_users,retained_users,resurrected_users,churned_users,active_users,"
    "retention_rate,quick_ratio,is_complete"
)

# Weeks: W1 = Mon 2024-01-01, W2 = 01-08, W3 = 01-15, W4 = 01-22, W5 = 01-29, W6 = 02-05,
# W7 = 02-12 (data ends Wed 2024-02-14, so W7 is incomplete).
WEEKLY_EVENTS = """\
event_time,user_id,event_type,revenue,platform
2024-01-01 09:00:00,a,login,,ios
2024-01-03 12:00:00,b,purchase,5,web
2024-01-07 23:59:00,a,login,,web
2024-01-08T00:59:00+01:00,c,login,,ios
2024-01-08 00:00:00,a,purchase,10,ios
2024-01-07T19:00:00-05:00,d,login,,web
2024-01-09 08:00:00,e,login,,web
2024-01-16 10:00:00,a,login,,ios
2024-01-17 11:00:00,e,purchase,3,web
2024-02-06 09:00:00,f,login,,ios
2024-02-13 09:00:00,f,purchase,7,web
2024-02-14 18:00:00,b,login,,ios
"""
# In UTC, c's event is Sunday 2024-01-07 23:59 (W1) and d's is Monday 2024-01-08 00:00 (W2).
# Active users per week: W1 {a, b, c}; W2 {a, d, e}; W3 {a, e}; W4-W5 nobody; W6 {f};
# W7 {b, f}.
#   W1: new a,b,c = 3; no previous period -> both rates empty.
#   W2: new d,e = 2; retained a = 1; churned b,c = 2; active 3;
#       retention 1/3 (W1 had 3); quick (2 + 0) / 2 = 1.0.
#   W3: retained a,e = 2; churned d = 1; active 2; retention 2/3; quick 0 / 1 = 0.0.
#   W4: churned a,e = 2; active 0; retention 0/2 = 0.0; quick 0/2 = 0.0.
#   W5: all zero (the middle gap); W4 had 0 active -> retention empty; churned 0 -> quick empty.
#   W6: new f = 1; active 1; W5 had 0 active -> retention empty; quick empty.
#   W7: retained f = 1; resurrected b = 1 (last seen W1); churned 0; active 2;
#       retention 1/1 = 1.0; quick empty; incomplete.
WEEKLY = [
    "2024-01-01,3,0,0,0,3,,,true",
    "2024-01-08,2,1,0,2,3,0.3333333333333333,1.0,true",
    "2024-01-15,0,2,0,1,2,0.6666666666666666,0.0,true",
    "2024-01-22,0,0,0,2,0,0.0,0.0,true",
    "2024-01-29,0,0,0,0,0,,,true",
    "2024-02-05,1,0,0,0,1,,,true",
    "2024-02-12,0,1,1,0,2,1.0,,false",
]

# platform=ios only: a's ios events are 01-01 (W1), 01-08 (W2), 01-16 (W3); c's 01-07 (W1);
# f's 02-06 (W6); b's 02-14 (W7). Active: W1 {a, c}; W2 {a}; W3 {a}; W6 {f}; W7 {b}.
#   W1: new a,c = 2.
#   W2: retained a; churned c; retention 1/2 = 0.5; quick 0/1 = 0.0.
#   W3: retained a; churned 0; retention 1/1 = 1.0; quick empty.
#   W4: churned a; retention 0/1 = 0.0; quick 0/1 = 0.0.
#   W5: all zero, both rates empty.
#   W6: new f; rates empty (W5 had 0 active, nobody churned).
#   W7: b is new (never active on ios before); f churned (its W7 event is web);
#       retention 0/1 = 0.0; quick 1/1 = 1.0.
WEEKLY_IOS = [
    "2024-01-01,2,0,0,0,2,,,true",
    "2024-01-08,0,1,0,1,1,0.5,0.0,true",
    "2024-01-15,0,1,0,0,1,1.0,,true",
    "2024-01-22,0,0,0,1,0,0.0,0.0,true",
    "2024-01-29,0,0,0,0,0,,,true",
    "2024-02-05,1,0,0,0,1,,,true",
    "2024-02-12,1,0,0,1,1,0.0,1.0,false",
]

# event_type=purchase only: b 01-03 (W1), a 01-08 (W2), e 01-17 (W3), f 02-13 (W7).
#   W1: new b.   W2: new a, churned b: retention 0/1 = 0.0, quick 1/1 = 1.0.
#   W3: new e, churned a: 0.0 and 1.0.   W4: churned e: 0.0 and 0/1 = 0.0.
#   W5, W6: all zero, rates empty.   W7: new f, rates empty (W6 had 0 active, no churn).
WEEKLY_PURCHASES = [
    "2024-01-01,1,0,0,0,1,,,true",
    "2024-01-08,1,0,0,1,1,0.0,1.0,true",
    "2024-01-15,1,0,0,1,1,0.0,1.0,true",
    "2024-01-22,0,0,0,1,0,0.0,0.0,true",
    "2024-01-29,0,0,0,0,0,,,true",
    "2024-02-05,0,0,0,0,0,,,true",
    "2024-02-12,1,0,0,0,1,,,false",
]

# Months; data ends Wed 2024-06-05, so June is incomplete.
MONTHLY_EVENTS = """\
event_time,user_id,event_type
2024-01-15 08:00:00,u3,login
2024-01-31 23:59:59,u1,login
2024-02-01 00:00:00,u2,login
2024-02-20 08:00:00,u3,login
2024-05-10 10:00:00,u1,login
2024-05-20 10:00:00,u4,login
2024-06-03 10:00:00,u2,login
2024-06-05 12:00:00,u4,login
"""
# Active: Jan {u1 (Jan 31 23:59:59), u3}; Feb {u2 (Feb 1 00:00), u3}; Mar, Apr nobody;
# May {u1, u4}; Jun {u2, u4}.
#   Jan: new u1,u3 = 2.
#   Feb: new u2; retained u3; churned u1; retention 1/2 = 0.5; quick (1 + 0) / 1 = 1.0.
#   Mar: churned u2,u3 = 2; retention 0/2 = 0.0; quick 0/2 = 0.0.
#   Apr: all zero, rates empty.
#   May: new u4; resurrected u1 (last seen January); rates empty (Apr 0 active, no churn).
#   Jun: retained u4; resurrected u2 (last seen February); churned u1;
#        retention 1/2 = 0.5; quick (0 + 1) / 1 = 1.0; incomplete.
MONTHLY = [
    "2024-01-01,2,0,0,0,2,,,true",
    "2024-02-01,1,1,0,1,2,0.5,1.0,true",
    "2024-03-01,0,0,0,2,0,0.0,0.0,true",
    "2024-04-01,0,0,0,0,0,,,true",
    "2024-05-01,1,0,1,0,2,,,true",
    "2024-06-01,0,1,1,1,2,0.5,1.0,false",
]

# Data ending Sunday 2021-01-31, which is also the last day of January.
# Weeks: Mon 2021-01-18 (x) and Mon 2021-01-25 (y, ends Sunday 01-31).
COMPLETE_EVENTS = """\
event_time,user_id,event_type
2021-01-20 12:00:00,x,login
2021-01-31 23:00:00,y,login
"""




def csv_text(rows: list[str]) -> str:
    return "\n".join([HEADER, *rows]) + "\n"




@pytest.fixture(scope="module")
def dbs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("export")
    paths, loads = {}, {}
    for name, events in [
        ("weekly", WEEKLY_EVENTS), ("monthly", MONTHLY_EVENTS), ("complete", COMPLETE_EVENTS)
    ]:
        source = folder / f"{name}.csv"
        source.write_text(events)
        paths[name] = folder / f"{name}.duckdb"
        loads[name] = ["load", source, "--db", paths[name]]
    for name, result in run_all(loads).items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    paths["folder"] = folder
    return paths


@pytest.fixture(scope="module")
def exports(dbs) -> dict[str, subprocess.CompletedProcess]:
    weekly = ["export", "growth", "--grain", "week", "--db", dbs["weekly"]]
    complete = ["export", "growth", "--db", dbs["complete"]]
    return run_all({
        "weekly": weekly,
        "weekly_to_file": [*weekly, "-o", dbs["folder"] / "weekly.csv"],
        "default_grain": ["export", "growth", "--db", dbs["weekly"]],
        "monthly": ["export", "growth", "--grain", "month", "--db", dbs["monthly"]],
        "window": [*weekly, "--start", "2024-01-17", "--end", "2024-02-05"],
        "ios": [*weekly, "--filter", "platform=ios"],
        "ios_or_web": [*weekly, "--filter", "platform=ios", "--filter", "platform=web"],
        "purchases": [*weekly, "--filter", "event_type=purchase"],
        "complete_weekly": [*complete, "--grain", "week"],
        "complete_monthly": [*complete, "--grain", "month"],
        "start_after_end": [*weekly, "--start", "2024-02-01", "--end", "2024-01-31"],
        "bad_date": [*weekly, "--start", "2024-02-30"],
        "unknown_grain": ["export", "growth", "--grain", "year", "--db", dbs["weekly"]],
        "unknown_filter_column": [*weekly, "--filter", "nosuch=1"],
        "filter_without_equals": [*weekly, "--filter", "platform"],
        "missing_db": ["export", "growth", "--db", dbs["folder"] / "absent" / "none.duckdb"],
        "output_folder_missing": [*weekly, "-o", dbs["folder"] / "absent" / "out.csv"],
    })




def test_weekly_export_matches_hand_derived_rows(exports):
    # Exact text: column order, ISO dates, empty undefined rates, repr floats, true/false.
    assert ok(exports["weekly"]) == csv_text(WEEKLY)


def test_week_is_the_default_grain(exports):
    assert ok(exports["default_grain"]) == csv_text(WEEKLY)


def test_output_file_holds_the_same_csv_as_stdout(exports, dbs):
    assert ok(exports["weekly_to_file"]) == ""
    assert (dbs["folder"] / "weekly.csv").read_text() == csv_text(WEEKLY)


def test_monthly_export_matches_hand_derived_rows(exports):
    assert ok(exports["monthly"]) == csv_text(MONTHLY)


def test_date_window_is_a_slice_of_the_full_export(exports):
    # --start Wed 2024-01-17 falls in the week of 01-15, --end 2024-02-05 is a Monday.
    # In W3 a and e are not new (first seen before the window), and the retention rate still
    # divides by W2's 3 active users although W2 is outside the window.
    window = ok(exports["window"])
    assert window == csv_text(WEEKLY[2:6])
    assert window.splitlines()[1] == "2024-01-15,0,2,0,1,2,0.6666666666666666,0.0,true"
    full = ok(exports["weekly"]).splitlines()
    assert window.splitlines()[1:] == [line for line in full[1:] if "2024-01-15" <= line[:10]
                                       <= "2024-02-05"]


def test_filter_on_a_segment_column(exports):
    assert ok(exports["ios"]) == csv_text(WEEKLY_IOS)


def test_filter_on_event_type_counts_only_those_events(exports):
    assert ok(exports["purchases"]) == csv_text(WEEKLY_PURCHASES)


def test_repeated_filter_column_means_either_value(exports):
    # Every event is ios or web, so "ios or web" is the whole log.
    assert ok(exports["ios_or_web"]) == csv_text(WEEKLY)


def is_complete_column(stdout: str) -> list[tuple[str, str]]:
    return [(line[:10], line.rsplit(",", 1)[1]) for line in stdout.splitlines()[1:]]


def test_week_holding_the_last_day_is_incomplete_when_data_ends_midweek(exports):
    # Data ends Wednesday 2024-02-14: the week of 02-12 is incomplete, all before complete.
    flags = is_complete_column(ok(exports["weekly"]))
    assert flags[-1] == ("2024-02-12", "false")
    assert {flag for _, flag in flags[:-1]} == {"true"}


def test_periods_ending_on_the_last_day_are_complete(exports):
    # Data ends Sunday 2021-01-31: the week of Monday 01-25 ends that day, as does January.
    assert is_complete_column(ok(exports["complete_weekly"])) == [
        ("2021-01-18", "true"), ("2021-01-25", "true"),
    ]
    assert is_complete_column(ok(exports["complete_monthly"])) == [("2021-01-01", "true")]


# (what the message must name, whether argparse rejects it before the app runs)
ERRORS = {
    "start_after_end": ("start date 2024-02-01 is after end date 2024-01-31", False),
    "bad_date": ("'2024-02-30' is not a date", True),
    "unknown_grain": ("'year'", True),
    "unknown_filter_column": ("'nosuch'", False),
    "filter_without_equals": ("'platform' is not of the form COLUMN=VALUE", False),
    "missing_db": ("none.duckdb", False),
    "output_folder_missing": ("out.csv", False),
}


@pytest.mark.parametrize("name", ERRORS)
def test_bad_request_is_a_one_line_error(exports, name):
    assert_one_line_error(exports[name], *ERRORS[name])


def test_missing_db_is_not_created(exports, dbs):
    assert exports["missing_db"].returncode != 0
    assert not (dbs["folder"] / "absent").exists()


def test_a_reader_that_stops_early_gets_no_error_message(make_db):
    # 25 years of days: far more CSV than a pipe buffers, so the writer meets a closed pipe.
    db = make_db([("2000-01-01 10:00:00", "u1", "session"), ("2024-12-31 10:00:00", "u1", "x")])
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "export", "growth", "--grain", "day", "--db", str(db)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout.readline().startswith("period_start,")
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert stderr == ""
    assert process.returncode == 1
