"""`python -m app export ab` as a real subprocess, against a small event and assignment log
made by hand.

users, converters and conversion_rate are derived by hand in the comments and compared as
exact text; the statistics are recomputed in the test (tests/test_experiments_sql.py: pooled
p-value from scipy's chi-square contingency test, Evan Miller's exact sum for the chance to
beat control, the Wald and delta-method intervals written out) and compared numerically.

Definitions (queries/experiments.py): a user converts with a conversion event (default
purchase) at or after assigned_at, within --window-days when given; a user in several
variants is excluded and counted; --start/--end select users by assigned_at in whole UTC
days; the control is `control`, else `A`, else the first alphabetically, unless --control.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from scipy import stats

from app.storage import Source, load
from tests.cli import assert_one_line_error, ok, run_all
from tests.test_experiments_sql import STAT_COLUMNS, expected_stats

REPO_ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "variant,is_control,users,converters,conversion_rate,lift_abs,lift_abs_ci_low,"
    "lift_abs_ci_high,lift_rel,lift_rel_ci_low,lift_rel_ci_high,p_value,p_value_adjusted,"
    "chance_to_beat_control,srm_p_value,excluded_users"
)

# Times without an offset are UTC. b2's assignment, 01:00 on 2 January in India, is
# 19:30 UTC on 1 January.
EVENTS = """\
event_time,user_id,event_type,revenue
2024-01-01 11:00:00,a1,signup,
2024-01-01 12:00:00,a1,purchase,10
2024-01-01 09:00:00,a2,purchase,10
2024-01-01 10:30:00,a2,signup,
2024-01-02 09:00:00,a3,session,
2024-01-10 09:00:00,a3,purchase,10
2024-01-03 09:30:00,a4,session,
2024-01-01 10:00:00,b1,purchase,10
2024-01-02 08:00:00,b2,purchase,10
2024-01-02 13:00:00,b3,signup,
2024-01-03 20:00:00,b4,purchase,10
2024-01-03 00:00:00,x1,purchase,10
"""
ASSIGNMENTS = """\
experiment,user_id,variant,assigned_at
checkout,a1,A,2024-01-01 10:00:00
checkout,a2,A,2024-01-01 11:00:00
checkout,a3,A,2024-01-02 09:00:00
checkout,a4,A,2024-01-03 09:00:00
checkout,b1,B,2024-01-01 10:00:00
checkout,b2,B,2024-01-02T01:00:00+05:30
checkout,b3,B,2024-01-02 12:00:00
checkout,b4,B,2024-01-03 08:00:00
checkout,x1,A,2024-01-01 09:00:00
checkout,x1,B,2024-01-02 09:00:00
"""
# Purchases relative to assignment:
#   a1 +2 h (converts); a2 1 h before (no); a3 +8 days (converts); a4 none.
#   b1 at the very second (converts); b2 +12 h 30 min (converts); b3 none; b4 +12 h.
#   x1 is in A and B: excluded from both, excluded_users = 1.
# Defaults: A 4 users, 2 converters; B 4 users, 3 converters. 4 vs 4: SRM chi-square 0.
DEFAULT = {"A": (4, 2), "B": (4, 3)}
# --window-days 7: a3's purchase is 8 days on: A 1 converter (a1); B still 3.
WINDOW_7 = {"A": (4, 1), "B": (4, 3)}
# --conversion-event signup: a1 signs up an hour after assignment; a2's signup (10:30) is
# before its assignment (11:00); b3 signs up an hour after. A 1, B 1.
SIGNUP = {"A": (4, 1), "B": (4, 1)}
# --start 2024-01-02 --end 2024-01-02 (UTC days): A a3 (its purchase on 01-10, after the
# range, counts); B b3 (no purchase). b2 is not in: 2 January in India is 1 January in UTC.
JAN_2 = {"A": (1, 1), "B": (1, 0)}
# EXPERIMENTS declares A 20 : B 80. Observed 4 : 4 against expected 1.6 : 6.4:
# chi-square = 2.4²/1.6 + 2.4²/6.4 = 3.6 + 0.9 = 4.5.
WEIGHTS = {"checkout": {"variants": {"A": 20, "B": 80}}}
WEIGHTED_SRM_P = float(stats.chi2.sf(4.5, 1))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export_ab")


@pytest.fixture(scope="module")
def exports(folder) -> dict[str, subprocess.CompletedProcess]:
    (folder / "events.csv").write_text(EVENTS)
    (folder / "assignments.csv").write_text(ASSIGNMENTS)
    db = folder / "events.duckdb"
    # The files go through the loader `python -m app load` runs, in this process: every CLI
    # start costs seconds of imports (scipy, pandas), and `load` has its own tests.
    load(db, Source("events.csv", path=folder / "events.csv"),
         Source("assignments.csv", path=folder / "assignments.csv"))
    # Refused before any data is read: against no database at all.
    absent = ["export", "ab", "--db", folder / "absent.duckdb", "--experiment", "checkout"]
    base = ["export", "ab", "--db", db, "--experiment", "checkout"]
    return run_all({
        "start_after_end": [*absent, "--start", "2024-02-01", "--end", "2024-01-31"],
        "bad_experiments_json": [*absent, {"EXPERIMENTS": "{not json"}],
        "defaults": base,
        "control_b": [*base, "--control", "B"],
        "signup": [*base, "--conversion-event", "signup"],
        "window_7": [*base, "--window-days", "7"],
        "jan_2": [*base, "--start", "2024-01-02", "--end", "2024-01-02"],
        "weighted_to_file": [*base, "-o", folder / "weighted.csv",
                             {"EXPERIMENTS": json.dumps(WEIGHTS)}],
        "unknown_experiment": ["export", "ab", "--db", db, "--experiment", "nosuch"],
        "unknown_control": [*base, "--control", "Z"],
        "conversion_named": [*base, "--metric", "conversion"],
        "conversion_sequential": [*base, "--sequential", "--tuning", "2000"],
        "revenue": [*base, "--metric", "revenue_per_user"],
        "revenue_cuped": [*base, "--metric", "revenue_per_user", "--cuped", "--pre-days", "1"],
        "unknown_metric": [*base, "--metric", "ltv"],
        "unknown_breakdown": [*base, "--metric", "aov", "--breakdown", "platform"],
    })


def parse(text: str) -> list[dict[str, str]]:
    assert text.splitlines()[0] == HEADER
    return list(csv.DictReader(io.StringIO(text)))


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def rate_text(users: int, converters: int) -> str:
    return repr(converters / users)


def check_export(text: str, arms: dict[str, tuple[int, int]], control: str,
                 srm_p: float | None = 1.0, excluded: int | None = 1) -> None:
    """One row per variant, control first; counts as exact text, statistics numerically;
    srm_p_value and excluded_users equal on every row (checked against the given values
    unless None)."""
    rows = parse(text)
    order = [control, *sorted(name for name in arms if name != control)]
    assert [(r["variant"], r["is_control"]) for r in rows] == [
        (name, "true" if name == control else "false") for name in order
    ]
    for row in rows:
        users, converters = arms[row["variant"]]
        assert (row["users"], row["converters"], row["conversion_rate"]) == (
            str(users), str(converters), rate_text(users, converters)
        )
        if row["variant"] == control:
            assert all(row[column] == "" for column in STAT_COLUMNS), row
            continue
        expected = expected_stats(arms[control], arms[row["variant"]])
        for column in STAT_COLUMNS:
            value = expected[column]
            wanted = None if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)
            assert number(row[column]) == wanted, column
    assert len({row["srm_p_value"] for row in rows}) == 1
    assert len({row["excluded_users"] for row in rows}) == 1
    if srm_p is not None:
        assert number(rows[0]["srm_p_value"]) == pytest.approx(srm_p, rel=1e-9)
    if excluded is not None:
        assert rows[0]["excluded_users"] == str(excluded)


def test_header_is_exact(exports):
    assert ok(exports["defaults"]).splitlines()[0] == HEADER


def test_defaults_match_hand_derived_rows(exports):
    text = ok(exports["defaults"])
    check_export(text, DEFAULT, control="A")
    # By hand: A 50%, B 75%. lift_abs 0.25 ± 1.96·sqrt(0.25/4 + 0.1875/4) = 0.25 ± 0.6482;
    # lift_rel 0.5 ± 1.96·sqrt(0.1875/0.25 + 0.5625·0.0625/0.0625) = 0.5 ± 1.6974;
    # pooled 5/8: z = 0.25 / sqrt(0.625·0.375·0.5) = 0.7303, p = 0.4652.
    treatment = parse(text)[1]
    assert float(treatment["lift_abs_ci_high"]) == pytest.approx(0.25 + 0.6482, abs=1e-4)
    assert float(treatment["lift_rel_ci_high"]) == pytest.approx(0.5 + 1.6974, abs=1e-4)
    assert float(treatment["p_value"]) == pytest.approx(0.4652, abs=1e-4)
    assert treatment["p_value_adjusted"] == treatment["p_value"]
    # Exact text of the counts and of the empty statistics on the control row.
    assert text.splitlines()[1] == "A,true,4,2,0.5,,,,,,,,,,1.0,1"
    assert text.splitlines()[2].startswith("B,false,4,3,0.75,0.25,")


def test_explicit_control(exports):
    # B is the control now: its row first, A compared against it.
    check_export(ok(exports["control_b"]), DEFAULT, control="B")


def test_conversion_event(exports):
    check_export(ok(exports["signup"]), SIGNUP, control="A")


def test_conversion_window(exports):
    check_export(ok(exports["window_7"]), WINDOW_7, control="A")


def test_date_range_selects_users_by_utc_assignment_day(exports):
    # A 1/1 against B 0/1: both rates 0 or 1, so no intervals; pooled p of 1 vs 0 out of 1
    # each is chi-square 2 on 1 df, p = 0.1573; P(Beta(1, 2) > Beta(2, 1)) = 1/6.
    text = ok(exports["jan_2"])
    check_export(text, JAN_2, control="A", excluded=None)
    treatment = parse(text)[1]
    assert (treatment["lift_abs"], treatment["lift_abs_ci_low"]) == ("-1.0", "")
    assert float(treatment["p_value"]) == pytest.approx(stats.chi2.sf(2, 1), rel=1e-9)
    assert float(treatment["chance_to_beat_control"]) == pytest.approx(1 / 6, abs=1e-9)


def test_declared_weights_change_the_srm_p_value_only(exports, folder):
    # With -o nothing goes to stdout; the file holds the CSV.
    assert ok(exports["weighted_to_file"]) == ""
    weighted = (folder / "weighted.csv").read_text()
    check_export(weighted, DEFAULT, control="A", srm_p=WEIGHTED_SRM_P)
    assert round(WEIGHTED_SRM_P, 4) == 0.0339
    # Everything but srm_p_value is the same as without EXPERIMENTS.
    plain = parse(ok(exports["defaults"]))
    for row, other in zip(parse(weighted), plain, strict=True):
        assert row.pop("srm_p_value") != other.pop("srm_p_value")
        assert row == other


METRIC_HEADER = ("variant,is_control,users,mean,std_dev,lift_abs,lift_rel,lift_rel_ci_low,"
                 "lift_rel_ci_high,p_value,chance_to_beat_control,srm_p_value,variance_reduction")
METRIC_TESTS = ("lift_abs", "lift_rel", "lift_rel_ci_low", "lift_rel_ci_high", "p_value",
                "chance_to_beat_control")


def metric_rows(text: str) -> dict[str, dict[str, str]]:
    assert text.splitlines()[0] == METRIC_HEADER
    return {row["variant"]: row for row in csv.DictReader(io.StringIO(text))}


def test_conversion_without_new_flags_is_unchanged(exports):
    assert ok(exports["conversion_named"]) == ok(exports["defaults"])


def test_revenue_per_user_rows(exports):
    rows = metric_rows(ok(exports["revenue"]))
    # Revenue after assignment: A a1 10, a2 0 (bought an hour before), a3 10, a4 0 -> mean 5,
    # sample sd sqrt(100 / 3); B b1 10, b2 10, b3 0, b4 10 -> mean 7.5, sd sqrt(75 / 3) = 5.
    assert [rows["A"]["users"], rows["B"]["users"]] == ["4", "4"]
    assert number(rows["A"]["mean"]) == 5 and number(rows["B"]["mean"]) == 7.5
    assert number(rows["A"]["std_dev"]) == pytest.approx((100 / 3) ** 0.5)
    assert number(rows["B"]["std_dev"]) == pytest.approx(5)
    assert number(rows["B"]["lift_abs"]) == pytest.approx(2.5)
    assert number(rows["B"]["lift_rel"]) == pytest.approx(0.5)
    assert all(rows["A"][column] == "" for column in METRIC_TESTS)
    assert rows["A"]["variance_reduction"] == rows["B"]["variance_reduction"] == ""
    assert number(rows["A"]["srm_p_value"]) == pytest.approx(1.0)


def test_cuped_reports_its_variance_reduction_on_the_treatment_row(exports):
    rows = metric_rows(ok(exports["revenue_cuped"]))
    assert rows["A"]["variance_reduction"] == ""
    assert 0 <= number(rows["B"]["variance_reduction"]) < 1
    assert rows["B"]["mean"] == metric_rows(ok(exports["revenue"]))["B"]["mean"]  # unadjusted


def test_a_sequential_conversion_test_uses_the_metric_table(exports):
    rows = metric_rows(ok(exports["conversion_sequential"]))
    # A converts 2 of 4, B 3 of 4 (DEFAULT above).
    assert number(rows["A"]["mean"]) == 0.5 and number(rows["B"]["mean"]) == 0.75
    assert number(rows["B"]["p_value"]) <= 1


ERRORS = {
    "unknown_metric": "unknown metric 'ltv': choose one of conversion, revenue_per_user",
    "unknown_breakdown": "breakdown 'platform' is not an event column",
    "unknown_experiment": "experiment 'nosuch' has no users",
    "unknown_control": "control 'Z' is not a variant: choose one of A, B",
    "start_after_end": "start date 2024-02-01 is after end date 2024-01-31",
    "bad_experiments_json": "EXPERIMENTS is not valid JSON",
}
@pytest.mark.parametrize("name", ERRORS)
def test_bad_request_is_a_one_line_error(exports, name):
    assert_one_line_error(exports[name], ERRORS[name], by_argparse=False)


def test_refused_requests_create_no_database(exports, folder):
    assert exports["start_after_end"].returncode != 0
    assert not (folder / "absent.duckdb").exists()
