"""Experiments on revenue, orders, AOV and column sums (queries/experiment_metrics.py): the SQL's
per-variant sums on a hand-made log, derived by hand in the comments, and on the demo against a
second computation in pandas over the raw events; the table's shape as the command line writes
it.

Definitions (from the issue): a user's value is the metric from their events at or after
assignment (within the window if one is set), zero without any; AOV is revenue over orders per
variant; CUPED's covariate is the same metric in the pre-period's days before assignment; a
breakdown puts each user under the value on their first event.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from queries.backends import DuckDBBackend
from queries.errors import ParameterError
from queries.experiment_metrics import (
    EXPERIMENT_METRIC_SPEC,
    EXPORT_COLUMNS,
    MetricQuery,
    MetricView,
    metric_result,
    multiple_comparisons_note,
)
from queries.experiments import ExperimentQuery
from queries.query_spec import run_query
from tests.test_experiments_sql import assignments_table

ASSIGNED = "2024-01-10 12:00:00"
# u1, u2 in control; u3, u4 in treatment; u5 in both (excluded).
ASSIGNMENTS = assignments_table([
    ("e", "u1", "control", ASSIGNED), ("e", "u2", "control", ASSIGNED),
    ("e", "u3", "treatment", ASSIGNED), ("e", "u4", "treatment", ASSIGNED),
    ("e", "u5", "control", ASSIGNED), ("e", "u5", "treatment", ASSIGNED),
])
# (time, user, type, revenue, platform, quantity)
ROWS = [
    ("2024-01-01 08:00:00", "u1", "session", None, "web", None),
    ("2024-01-05 09:00:00", "u1", "purchase", 5.0, "ios", "1"),  # pre: 5 days before
    ("2024-01-11 09:00:00", "u1", "purchase", 10.0, "ios", "2"),  # within a day
    ("2024-01-12 09:00:00", "u1", "purchase", 20.0, "ios", "1"),  # after the day's window
    ("2024-01-02 08:00:00", "u2", "session", None, "ios", None),  # nothing after assignment
    ("2023-12-20 08:00:00", "u3", "session", None, "web", None),
    ("2024-01-01 09:00:00", "u3", "purchase", 8.0, "web", "4"),  # pre: 9.1 days before
    ("2024-01-11 09:00:00", "u3", "purchase", 30.0, "web", "3"),
    ("2023-12-01 08:00:00", "u4", "purchase", 99.0, "web", "9"),  # before the 14-day pre-period
    ("2024-01-15 09:00:00", "u4", "purchase", 12.0, "web", "x"),  # not a number: 0
    ("2024-01-11 09:00:00", "u5", "purchase", 50.0, "web", "5"),
]


@pytest.fixture
def backend(make_db):
    return DuckDBBackend(make_db(ROWS, ("platform", "quantity"), ASSIGNMENTS))


def sums(backend, **options) -> pd.DataFrame:
    experiment = ExperimentQuery("e", window_days=options.pop("window_days", None))
    rows = run_query(backend, EXPERIMENT_METRIC_SPEC,
                     MetricView(MetricQuery(experiment, **options)))
    assigned = rows[rows["kind"] == "assigned"]
    group = ["segment", "variant"] if options.get("breakdown") else ["variant"]
    return assigned.groupby(group)[EXPERIMENT_METRIC_SPEC.column_names[4:]].sum()


def test_revenue_per_user_sums_each_users_revenue_after_assignment(backend):
    frame = sums(backend, metric="revenue_per_user")
    # control: u1 10 + 20 = 30, u2 0; treatment: u3 30, u4 12. u5 is excluded.
    assert frame.loc["control", ["users", "value_sum", "value_squares"]].tolist() == [2, 30, 900]
    assert frame.loc["treatment", ["users", "value_sum", "value_squares"]].tolist() == [
        2, 42, 30 ** 2 + 12 ** 2]
    result = metric_result(backend, MetricView(MetricQuery(ExperimentQuery("e"),
                                                           "revenue_per_user")))
    rows = result.table.set_index("variant")
    assert rows.loc["control", "mean"] == 15 and rows.loc["treatment", "mean"] == 21
    assert rows.loc["treatment", "lift_abs"] == pytest.approx(6)
    assert rows.loc["treatment", "lift_rel"] == pytest.approx(0.4)  # (21 - 15) / 15
    # Sample standard deviations: control (30, 0) -> sqrt(450); treatment (30, 12) -> sqrt(162).
    assert rows["std_dev"].tolist() == pytest.approx([450 ** 0.5, 162 ** 0.5])
    assert result.excluded_users == 1 and list(result.table.columns) == EXPORT_COLUMNS


def test_a_window_keeps_only_the_events_within_it(backend):
    frame = sums(backend, metric="revenue_per_user", window_days=1)
    # Within a day of 10 Jan 12:00: u1's 10 (11 Jan 09:00) and u3's 30; u4's 15 Jan is out.
    assert frame["value_sum"].to_dict() == {"control": 10, "treatment": 30}


def test_orders_aov_and_a_column_sum(backend):
    orders = sums(backend, metric="orders_per_user")
    assert orders["value_sum"].to_dict() == {"control": 2, "treatment": 2}  # u1 2; u3 1, u4 1
    aov = metric_result(backend, MetricView(MetricQuery(ExperimentQuery("e"), "aov")))
    # Revenue over orders: control 30 / 2, treatment 42 / 2.
    assert aov.table.set_index("variant")["mean"].to_dict() == {"control": 15, "treatment": 21}
    quantity = sums(backend, metric="sum:quantity")
    # u1 2 + 1; u3 3, u4 "x" counts 0.
    assert quantity["value_sum"].to_dict() == {"control": 3, "treatment": 3}


def test_cuped_reads_the_same_metric_in_the_days_before_assignment(backend):
    frame = sums(backend, metric="revenue_per_user", cuped=True, pre_days=14)
    # Pre-period 27 Dec 12:00 - 10 Jan 12:00: u1 5 and u3 8; u4's 1 Dec is before it.
    assert frame["pre_sum"].to_dict() == {"control": 5, "treatment": 8}
    assert frame["value_pre_products"].to_dict() == {"control": 30 * 5, "treatment": 30 * 8}
    shorter = sums(backend, metric="revenue_per_user", cuped=True, pre_days=7)
    assert shorter["pre_sum"].to_dict() == {"control": 5, "treatment": 0}  # u3's is 9 days before
    assert sums(backend, metric="revenue_per_user")["pre_sum"].sum() == 0  # no CUPED, no pre


def test_a_breakdown_puts_each_user_under_their_first_events_value(backend):
    frame = sums(backend, metric="revenue_per_user", breakdown="platform")
    # First events: u1 web (1 Jan session), u2 ios, u3 web, u4 web.
    assert frame["users"].to_dict() == {("ios", "control"): 1, ("web", "control"): 1,
                                        ("web", "treatment"): 2}
    result = metric_result(backend, MetricView(MetricQuery(ExperimentQuery("e"),
                                                           "revenue_per_user",
                                                           breakdown="platform")))
    assert list(result.table.columns) == ["segment", *EXPORT_COLUMNS]
    # ios has its control only: no comparison there; web's one control user has no variance.
    assert result.table["segment"].tolist() == ["ios", "web", "web"]
    assert result.table["mean"].tolist() == [0, 30, 21]
    assert result.table["lift_rel"].isna().all()


def test_unknown_metrics_and_columns_are_refused_with_the_choices(backend):
    with pytest.raises(ParameterError, match="unknown metric 'ltv'"):
        MetricQuery(ExperimentQuery("e"), "ltv")
    with pytest.raises(ParameterError, match="AOV is a ratio"):
        MetricQuery(ExperimentQuery("e"), "aov", cuped=True)
    with pytest.raises(ParameterError, match=r"'region' is not an event column.*platform"):
        metric_result(backend, MetricView(MetricQuery(ExperimentQuery("e"), "sum:region")))
    with pytest.raises(ParameterError, match="breakdown 'event_type' is not an event column"):
        metric_result(backend, MetricView(MetricQuery(ExperimentQuery("e"),
                                                      breakdown="event_type")))


def test_many_segment_comparisons_get_a_note():
    table = pd.DataFrame({"segment": ["a", "a", "b", "b"], "p_value": [None, 0.2, None, 0.01]})
    assert "2 comparisons" in multiple_comparisons_note(table)
    assert multiple_comparisons_note(table.drop(columns="segment")) is None


# ---- the demo, against pandas over the raw events -------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from app.demo import generate_demo
    from app.storage import Source, load

    data = generate_demo(users=6000, seed=5, end_date=dt.date(2025, 6, 18))
    path = tmp_path_factory.mktemp("metric-demo") / "demo.duckdb"
    load(path, Source("demo-events", table=data.events),
         Source("demo-assignments", table=data.assignments))
    return path, data.events.to_pandas(), data.assignments.to_pandas()


def pandas_sums(events, assignments, experiment, window_days, pre_days):
    users = assignments[assignments["experiment"] == experiment].groupby("user_id").agg(
        variant=("variant", "min"), variants=("variant", "nunique"),
        assigned_at=("assigned_at", "min"))
    users = users[users["variants"] == 1]
    joined = events.merge(users, left_on="user_id", right_index=True)
    after = joined[(joined["event_time"] >= joined["assigned_at"])
                   & (joined["event_time"] <= joined["assigned_at"]
                      + pd.Timedelta(days=window_days))]
    before = joined[(joined["event_time"] < joined["assigned_at"])
                    & (joined["event_time"] >= joined["assigned_at"]
                       - pd.Timedelta(days=pre_days))]
    users["value"] = after.groupby("user_id")["revenue"].sum().reindex(users.index).fillna(0)
    users["pre"] = before.groupby("user_id")["revenue"].sum().reindex(users.index).fillna(0)
    return users.groupby("variant").apply(lambda group: pd.Series({
        "users": len(group), "value_sum": group["value"].sum(),
        "value_squares": (group["value"] ** 2).sum(), "pre_sum": group["pre"].sum(),
        "value_pre_products": (group["value"] * group["pre"]).sum()}))


def test_the_demos_revenue_sums_match_pandas_over_the_raw_events(demo):
    path, events, assignments = demo
    experiment = ExperimentQuery("free_shipping", window_days=7)
    rows = run_query(DuckDBBackend(path), EXPERIMENT_METRIC_SPEC, MetricView(MetricQuery(
        experiment, "revenue_per_user", cuped=True, pre_days=14)))
    ours = rows[rows["kind"] == "assigned"].groupby("variant")[
        ["users", "value_sum", "value_squares", "pre_sum", "value_pre_products"]].sum()
    expected = pandas_sums(events, assignments, "free_shipping", 7, 14)
    assert ours.index.tolist() == ["control", "free_shipping"]
    assert np.allclose(ours.to_numpy(float), expected.loc[ours.index].to_numpy(float), rtol=1e-9)
    assert expected["pre_sum"].min() > 0  # returning customers: a pre-period to adjust with


def test_cuped_narrows_the_demos_revenue_interval(demo):
    path, _, _ = demo
    backend = DuckDBBackend(path)
    plain, cuped = (metric_result(backend, MetricView(MetricQuery(
        ExperimentQuery("free_shipping"), "revenue_per_user", cuped=flag))).table.iloc[1]
        for flag in (False, True))
    assert cuped["variance_reduction"] > 0.1
    assert (cuped["lift_rel_ci_high"] - cuped["lift_rel_ci_low"]) < 0.95 * (
        plain["lift_rel_ci_high"] - plain["lift_rel_ci_low"])
