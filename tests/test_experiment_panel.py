"""The experiment panel's pure parts for other metrics: the guardrail's red alert, the verdict
sentences and the header, on results made by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from callbacks.experiments import ExperimentOutcome, guardrail_alerts, header, removed
from queries.experiment_metrics import (
    EXPORT_COLUMNS,
    SUMS,
    MetricQuery,
    MetricResult,
    harmed,
    metric_verdict_lines,
)
from queries.experiments import ExperimentQuery


def result(metric: str, rows: list[dict], users=(1000, 1000)) -> MetricResult:
    table = pd.DataFrame([dict.fromkeys(EXPORT_COLUMNS) | row for row in rows],
                         columns=EXPORT_COLUMNS)
    totals = pd.DataFrame({"users": list(users)}, index=["control", "B"]).reindex(
        columns=SUMS, fill_value=0.0)
    totals["users"] = list(users)
    # Control: mean 2, variance 4 (sum 2000, sum of squares 4 * 999 + 2000² / 1000).
    totals.loc["control", ["value_sum", "value_squares"]] = [2000, 4 * 999 + 4000]
    return MetricResult(MetricQuery(ExperimentQuery("e"), metric), "control", table,
                        pd.DataFrame(), None, 0, dt.date(2025, 1, 1), dt.date(2025, 1, 14),
                        totals)


CONTROL = {"variant": "control", "is_control": True, "users": 1000}
WORSE = {"variant": "B", "is_control": False, "users": 1000, "lift_rel": -0.08,
         "lift_rel_ci_low": -0.14, "lift_rel_ci_high": -0.02, "p_value": 0.01,
         "chance_to_beat_control": 0.004}


def test_a_treatment_significantly_worse_on_the_guardrail_is_shown_in_red():
    guardrail = result("orders_per_user", [CONTROL, WORSE])
    assert harmed(guardrail) == ["B"]
    alert = guardrail_alerts(ExperimentOutcome(None, guardrail=guardrail))[0]
    assert alert.color == "danger"
    assert "orders per user is significantly worse" in str(alert.children)
    assert "B -8.0% (-14.0% to -2.0%)" in str(alert.children)
    fine = result("orders_per_user", [CONTROL, WORSE | {"lift_rel_ci_high": 0.01}])
    assert harmed(fine) == []
    assert "not significantly worse" in str(guardrail_alerts(
        ExperimentOutcome(None, guardrail=fine))[0].children)


def test_verdicts_name_the_metric_in_either_engine():
    worse = result("revenue_per_user", [CONTROL, WORSE])
    assert metric_verdict_lines(worse) == [
        "B: revenue per user 8.0% lower than control; <1% chance to beat control"]
    assert metric_verdict_lines(worse, "frequentist") == [
        "B: revenue per user 8.0% lower than control; p = 0.01"]


def test_the_header_says_start_days_users_and_how_far_the_sample_is():
    shown = " ".join(str(part.children) for part in header(
        result("revenue_per_user", [CONTROL, WORSE]), 5))
    assert "Started 1 Jan 2025" in shown and "14 days running" in shown
    assert "2,000 users so far" in shown
    # n = 2 (1.96 + 0.8416)² 4 / (0.05 · 2)² = 6,280 per variant (rounded up): 1,000 is 16%.
    assert "16% of the users a 5% lift needs" in shown


def test_days_run_to_the_datas_last_day_and_cuped_says_what_it_removed():
    shown = " ".join(str(part.children) for part in header(
        result("revenue_per_user", [CONTROL, WORSE]), 5, dt.date(2025, 1, 31)))
    assert "31 days running" in shown  # 1 to 31 January
    table = pd.DataFrame({"variance_reduction": [None, 0.24, 0.31]})
    assert removed(table) == ", which removed 24% to 31% of the lift's variance"
    assert removed(table.iloc[:2]) == ", which removed 24% of the lift's variance"
    assert removed(table.iloc[:1]) == ""
