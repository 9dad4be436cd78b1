"""Experiments on any metric: conversion, revenue per user, orders per user, AOV (a ratio) or the
per-user sum of a numeric event column, with CUPED, sequential testing, a breakdown by segment
and the lift over time. The SQL (experiment_metric.sql) returns per-variant sums; the
statistics are queries/metric_stats.py, as GrowthBook's gbstats 0.8 computes them.

A user's breakdown value is the one on their first event. Conversion here is a mean of 0s and
1s, so its variance is the sample variance (n - 1), where the conversion panel's own statistics
(queries/experiment_stats.py) use p(1 - p).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

import pandas as pd
from scipy import stats

from queries import schema, sql_files
from queries.backends import Backend
from queries.errors import ParameterError
from queries.experiment_stats import SampleRatio, sample_ratio_check
from queries.experiments import (
    DeclaredExperiment,
    ExperimentQuery,
    choose_control,
    eligible_users_sql,
)
from queries.metric_stats import (
    DEFAULT_TUNING,
    Adjusted,
    Moments,
    Ratio,
    relative_lift_test,
    variance_reduction,
)
from queries.metrics import lower_first
from queries.query_spec import Kind, QuerySpec, run_query

ORDERS = "events.revenue is not null"  # an order is an event with revenue

# name -> (label, SQL of an event's value, how a user's values combine, the events it reads)
METRICS = {
    "conversion": ("Conversion", "1", "max", "events.event_type = $conversion_event"),
    "revenue_per_user": ("Revenue per user", "events.revenue", "sum", ORDERS),
    "orders_per_user": ("Orders per user", "1", "sum", ORDERS),
    "aov": ("Average order value", "events.revenue", "sum", ORDERS),
}
RATIO_METRICS = ("aov",)  # revenue over orders, per variant
SUM_PREFIX = "sum:"  # "sum:quantity": the per-user sum of a numeric event column
DEFAULT_PRE_DAYS = 14
EXPORT_COLUMNS = [
    "variant", "is_control", "users", "mean", "std_dev", "lift_abs", "lift_rel",
    "lift_rel_ci_low", "lift_rel_ci_high", "p_value", "chance_to_beat_control", "srm_p_value",
    "variance_reduction",
]
TEST_COLUMNS = EXPORT_COLUMNS[5:11]
SUMS = ["users", "value_sum", "value_squares", "denominator_sum", "denominator_squares",
        "value_denominator_products", "pre_sum", "pre_squares", "value_pre_products"]


def metric_label(metric: str) -> str:
    if metric.startswith(SUM_PREFIX):
        return f"Sum of {metric.removeprefix(SUM_PREFIX)} per user"
    return METRICS[metric][0]


@dataclass(frozen=True)
class MetricQuery:
    experiment: ExperimentQuery
    metric: str = "conversion"
    cuped: bool = False
    pre_days: float = DEFAULT_PRE_DAYS
    sequential: bool = False
    tuning: float = DEFAULT_TUNING
    breakdown: str | None = None
    alpha: float = 0.05

    def __post_init__(self):
        if self.metric not in METRICS and not (
                self.metric.startswith(SUM_PREFIX)
                and schema.IDENTIFIER.match(self.metric.removeprefix(SUM_PREFIX))):
            raise ParameterError(
                f"unknown metric {self.metric!r}: choose one of {', '.join(METRICS)}"
                f" or {SUM_PREFIX}COLUMN")
        if self.cuped and self.metric in RATIO_METRICS:
            raise ParameterError("CUPED adjusts per-user metrics; AOV is a ratio: choose"
                                 " revenue_per_user or orders_per_user for CUPED")
        if not (isinstance(self.pre_days, int | float) and 0 < self.pre_days <= 366):
            raise ParameterError("the CUPED pre-period must be from 1 to 366 days")
        if not (isinstance(self.tuning, int | float) and self.tuning > 0):
            raise ParameterError("the sequential tuning parameter must be a positive number")

    @property
    def is_ratio(self) -> bool:
        return self.metric in RATIO_METRICS


@dataclass(frozen=True)
class MetricView:
    query: MetricQuery
    declared: DeclaredExperiment | None = None


def checked_column(backend: Backend, column: str | None, role: str) -> str | None:
    """A column named by the user, from the allow-list of the data's segment columns."""
    if column is None:
        return None
    allowed = schema.segment_columns(backend.event_columns())
    if column not in allowed:
        raise ParameterError(f"{role} {column!r} is not an event column: choose one of"
                             f" {', '.join(allowed) or 'none (the data has no segment columns)'}")
    return column


def metric_value_sql(backend: Backend, metric: str) -> tuple[str, str, str]:
    """(an event's value, how a user's values combine, which events count) in SQL."""
    if metric.startswith(SUM_PREFIX):
        column = checked_column(backend, metric.removeprefix(SUM_PREFIX), "metric column")
        number = backend.dialect.to_number(f"events.{backend.dialect.quote(column)}")
        return f"coalesce({number}, 0)", "sum", "TRUE"
    _, value, per_user, events = METRICS[metric]
    return value, per_user, events


def experiment_metric_sql(backend: Backend, view: MetricView, bounds: None) -> tuple[str, dict]:
    query, dialect = view.query, backend.dialect
    experiment = query.experiment
    eligible, segment_sql, params = eligible_users_sql(backend, experiment, view.declared)
    breakdown = checked_column(backend, query.breakdown, "breakdown")
    value, per_user, metric_events = metric_value_sql(backend, query.metric)
    sql = sql_files.render(
        "experiment_metric", eligible_users=eligible, events=backend.relation(schema.EVENTS),
        segment_filter=segment_sql, metric_value=value,
        per_user=per_user, metric_events=metric_events, float_type=dialect.float_type,
        string_type=dialect.string_type,
        pre_start=dialect.add_seconds("eligible.assigned_at", "pre_offset_seconds"),
        window_end=dialect.add_seconds("eligible.assigned_at", "window_seconds"),
        breakdown_column=(f"events.{dialect.quote(breakdown)}" if breakdown
                          else f"cast(null as {dialect.string_type})"),
        breakdown_needed="TRUE" if breakdown else "FALSE",
    )
    params |= {
        "window_seconds": round(experiment.window_days * 86400) if experiment.window_days
        else None,
        # Events before assignment are read only for CUPED's covariate.
        "pre_offset_seconds": -round(query.pre_days * 86400) if query.cuped else 0,
    }
    if query.metric == "conversion":
        params["conversion_event"] = experiment.conversion_event
    return dialect.bind_parameters(sql), params


EXPERIMENT_METRIC_SPEC = QuerySpec(
    name="experiment_metric", view=MetricView, render=experiment_metric_sql,
    columns={"variant": Kind.TEXT, "day": Kind.DATE, "kind": Kind.TEXT, "segment": Kind.TEXT,
             **dict.fromkeys(SUMS[:1], Kind.COUNT), **dict.fromkeys(SUMS[1:], Kind.NUMBER)},
    parameters=(
        "experiment", "conversion_event", "start_time", "end_time", "window_seconds",
        "pre_offset_seconds", "filter_*", "hash_salt", "hash_start", "variant_*",
        "bucket_below_*",
    ),
    includes=("experiment_eligible", "hashed_assignments"),
)


@dataclass(frozen=True)
class MetricResult:
    query: MetricQuery
    control: str
    table: pd.DataFrame  # EXPORT_COLUMNS, after a leading `segment` with a breakdown
    over_time: pd.DataFrame  # variant, day, users, lift_rel, lift_rel_ci_low, lift_rel_ci_high
    sample_ratio: SampleRatio | None
    excluded_users: int
    first_day: dt.date | None  # of assignment
    last_day: dt.date | None
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)  # SUMS per variant

    @property
    def users(self) -> int:
        return int(self.totals["users"].sum()) if not self.totals.empty else 0

    @property
    def has_srm(self) -> bool:
        return bool(self.sample_ratio and self.sample_ratio.mismatch)


def statistic(query: MetricQuery, sums) -> Moments | Ratio | Adjusted:
    """A variant's statistic from its sums (a row or a Series indexed by SUMS)."""
    value = Moments(int(sums["users"]), float(sums["value_sum"]), float(sums["value_squares"]))
    if query.is_ratio:
        orders = Moments(value.n, float(sums["denominator_sum"]),
                         float(sums["denominator_squares"]))
        return Ratio(value, orders, float(sums["value_denominator_products"]))
    if query.cuped:
        pre = Moments(value.n, float(sums["pre_sum"]), float(sums["pre_squares"]))
        return Adjusted(value, pre, float(sums["value_pre_products"]))
    return value


def unadjusted(stat) -> Moments | Ratio:
    return stat.post if isinstance(stat, Adjusted) else stat


def compare_variants(query: MetricQuery, sums: pd.DataFrame, control: str,
                     weights: dict | None) -> pd.DataFrame:
    """EXPORT_COLUMNS, the control first, for per-variant sums (indexed by variant)."""
    sample_ratio = sample_ratio_check(sums["users"].astype(int).to_dict(), weights or None)
    control_stat = statistic(query, sums.loc[control])
    rows = []
    for variant in [control, *sorted(v for v in sums.index if v != control)]:
        stat = statistic(query, sums.loc[variant])
        shown = unadjusted(stat)
        row = {"variant": variant, "is_control": variant == control, "users": stat.n,
               "mean": shown.mean, "std_dev": math.sqrt(max(shown.variance, 0.0)),
               **dict.fromkeys(TEST_COLUMNS), "variance_reduction": None,
               "srm_p_value": sample_ratio.p_value if sample_ratio else None}
        if variant != control:
            row |= test_columns(query, control_stat, stat)
        rows.append(row)
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def test_columns(query: MetricQuery, control, treatment) -> dict:
    test = relative_lift_test(control, treatment, query.alpha,
                              query.tuning if query.sequential else None)
    if test is None:
        return {}
    columns = {"lift_abs": test.lift_abs, "lift_rel": test.lift_rel,
               "lift_rel_ci_low": test.ci_low, "lift_rel_ci_high": test.ci_high,
               "p_value": test.p_value, "chance_to_beat_control": test.chance_to_beat_control}
    if query.cuped:
        columns["variance_reduction"] = variance_reduction(control, treatment)
    return columns


def lift_over_time(query: MetricQuery, rows: pd.DataFrame, control: str) -> pd.DataFrame:
    """Per treatment and assignment day: the lift over the users assigned up to that day."""
    columns = ["variant", "day", "users", "lift_rel", "lift_rel_ci_low", "lift_rel_ci_high"]
    dated = rows[rows["day"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=columns)
    daily = dated.groupby(["variant", "day"])[SUMS].sum()
    days = sorted(dated["day"].unique())
    cumulative = {
        variant: daily.loc[variant].reindex(days, fill_value=0).cumsum()
        for variant in daily.index.get_level_values("variant").unique()
    }
    points = []
    for variant, frame in cumulative.items():
        if variant == control or control not in cumulative:
            continue
        for day in days:
            test = relative_lift_test(statistic(query, cumulative[control].loc[day]),
                                      statistic(query, frame.loc[day]), query.alpha,
                                      query.tuning if query.sequential else None)
            if test is not None:
                points.append([variant, day, int(frame.loc[day, "users"]), test.lift_rel,
                               test.ci_low, test.ci_high])
    return pd.DataFrame(points, columns=columns)


def metric_result(backend: Backend, view: MetricView) -> MetricResult:
    query = view.query
    rows = run_query(backend, EXPERIMENT_METRIC_SPEC, view)
    excluded = int(rows.loc[rows["kind"] == "excluded", "users"].sum())
    assigned = rows[rows["kind"] == "assigned"]
    if assigned.empty:
        raise ParameterError(f"experiment {query.experiment.experiment!r} has no users in this"
                             " date range and segment")
    totals = assigned.groupby("variant")[SUMS].sum()
    control = choose_control(sorted(totals.index), query.experiment.control)
    weights = view.declared.weights if view.declared else None
    table = compare_variants(query, totals, control, weights)
    if query.breakdown:
        table = breakdown_table(query, assigned, control, weights)
    days = assigned["day"].dropna()
    return MetricResult(
        query, control, table, lift_over_time(query, assigned, control),
        sample_ratio_check(totals["users"].astype(int).to_dict(), weights or None), excluded,
        min(days) if len(days) else None, max(days) if len(days) else None, totals,
    )


def breakdown_table(query: MetricQuery, assigned: pd.DataFrame, control: str,
                    weights: dict | None) -> pd.DataFrame:
    """One block of variants per segment value (a user without events has none: "(none)")."""
    frames = []
    segments = assigned.assign(segment=assigned["segment"].fillna("(none)"))
    for value, rows in segments.groupby("segment", sort=True):
        sums = rows.groupby("variant")[SUMS].sum()
        if control not in sums.index:
            continue
        frame = compare_variants(query, sums, control, weights)
        frames.append(frame.assign(segment=value)[["segment", *EXPORT_COLUMNS]])
    if not frames:
        return pd.DataFrame(columns=["segment", *EXPORT_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def multiple_comparisons_note(table: pd.DataFrame) -> str | None:
    """With a breakdown, some segment will look significant by chance: say how many to
    expect."""
    if "segment" not in table:
        return None
    tests = int(table["p_value"].notna().sum())
    if tests <= 1:
        return None
    return (f"{tests} comparisons: at 5% significance about {tests * 0.05:.1f} would look"
            " significant by chance alone. Treat a single significant segment as a lead to"
            " test again, not a result.")


def relative_mde(result: MetricResult, power: float = 0.8) -> float | None:
    """The smallest relative lift the current sample detects with this power (a two-sided
    normal test; Kohavi, Tang and Xu, Trustworthy Online Controlled Experiments, ch. 17)."""
    if result.totals.empty or len(result.totals) < 2:
        return None
    control = unadjusted(statistic(result.query, result.totals.loc[result.control]))
    others = [unadjusted(statistic(result.query, result.totals.loc[variant]))
              for variant in result.totals.index if variant != result.control]
    treatment = min(others, key=lambda stat: stat.n)
    if control.mean == 0 or control.n < 2 or treatment.n < 2:
        return None
    spread = control.variance / control.n + control.variance / treatment.n
    z = stats.norm.ppf(1 - result.query.alpha / 2) + stats.norm.ppf(power)
    return float(z * math.sqrt(spread) / abs(control.mean))


def with_metric(query: MetricQuery, metric: str) -> MetricQuery:
    """The same experiment view on another metric (a guardrail); CUPED stays only where it
    applies."""
    return replace(query, metric=metric, cuped=query.cuped and metric not in RATIO_METRICS,
                   breakdown=None)


def metric_verdict_lines(result: MetricResult, engine: str = "bayesian") -> list[str]:
    """One sentence per treatment: "B: revenue per user 14.9% higher than control; 86% chance to
    beat control" (Bayesian) or "...; p = 0.28" (frequentist). None while the sample ratio is
    off."""
    from queries.experiments import bayesian_evidence, format_p

    if result.has_srm or "segment" in result.table:
        return []
    label = lower_first(metric_label(result.query.metric))
    lines = []
    for row in result.table[~result.table["is_control"]].itertuples(index=False):
        if row.lift_rel is None or pd.isna(row.lift_rel):
            lines.append(f"{row.variant}: no verdict, the {label} has no variance or its control"
                         " mean is 0.")
            continue
        direction = "higher" if row.lift_rel >= 0 else "lower"
        if engine == "bayesian":
            evidence = bayesian_evidence(row.chance_to_beat_control)
        else:
            evidence = f"p = {format_p(row.p_value)}" + (
                "" if row.p_value < result.query.alpha else " (not significant at 95%)")
        lines.append(f"{row.variant}: {label} {abs(row.lift_rel):.1%} {direction} than"
                     f" {result.control}; {evidence}")
    return lines


def harmed(result: MetricResult) -> list[str]:
    """Treatments whose metric is significantly worse than control: a guardrail they fail."""
    rows = result.table[~result.table["is_control"] & result.table["lift_rel_ci_high"].notna()]
    return [row.variant for row in rows.itertuples(index=False) if row.lift_rel_ci_high < 0]
