"""Experiments view: one experiment's variants, verdict, warnings, charts and power box."""

from __future__ import annotations

from dataclasses import dataclass, replace

import dash_bootstrap_components as dbc
from dash import html, no_update

from callbacks.panel import Panel, by_property, notice
from callbacks.url_state import Kind, UrlField
from layouts import experiment_charts, ids
from layouts import experiments as layout
from layouts.charts import empty_figure, variant_order
from queries.bounds import data_bounds
from queries.errors import ParameterError
from queries.experiment_metrics import (
    DEFAULT_PRE_DAYS,
    MetricQuery,
    MetricView,
    harmed,
    metric_label,
    metric_result,
    metric_verdict_lines,
    multiple_comparisons_note,
    relative_mde,
    statistic,
    unadjusted,
    with_metric,
)
from queries.experiment_stats import users_per_arm
from queries.experiments import (
    ENGINE_EXPLANATIONS,
    ENGINE_TITLES,
    ENGINES,
    ExperimentQuery,
    run_experiment,
    srm_explanation,
    verdict_lines,
)
from queries.filters import ACTIVITY_COLUMN
from queries.metric_stats import users_per_variant
from queries.metrics import lower_first


@dataclass(frozen=True)
class ExperimentRequest:
    query: ExperimentQuery
    planned_effect: object
    engine: str = "bayesian"
    metric: MetricQuery | None = None
    guardrail: str | None = None

    @property
    def is_plain_conversion(self) -> bool:
        """Conversion without CUPED, sequential testing or a breakdown: the conversion panel's
        own statistics, as before."""
        metric = self.metric
        return metric is None or (metric.metric == "conversion" and not metric.cuped
                                  and not metric.sequential and metric.breakdown is None)


def experiment_query(view, experiment, conversion_event, control, window_days):
    return ExperimentQuery(
        experiment, conversion_event or "purchase", control, view.start, view.end,
        days(window_days, "the conversion window"), view.segment.with_values(ACTIVITY_COLUMN, []),
    )


def days(value, noun: str) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise ParameterError(f"{noun} must be a number of days") from None


def parse(view, controls, context) -> ExperimentRequest | None:
    if not controls.get("experiment"):
        return None
    query = experiment_query(view, controls["experiment"], controls.get("conversion_event"),
                             controls.get("control"), controls.get("window_days"))
    metric = MetricQuery(
        query, controls.get("metric") or "conversion", bool(controls.get("cuped")),
        days(controls.get("pre_days"), "the pre-period") or DEFAULT_PRE_DAYS,
        bool(controls.get("sequential")), context.config.sequential_tuning,
        controls.get("breakdown") or None,
    )
    return ExperimentRequest(query, controls.get("planned_effect"), context.config.stats_engine,
                             metric, controls.get("guardrail") or None)


@dataclass(frozen=True)
class ExperimentOutcome:
    result: object  # the conversion result, for plain conversion; else None
    note: str | None = None  # the control asked for was not a variant: which one is used
    metric: object = None  # MetricResult, overall
    breakdown: object = None  # MetricResult by segment, with a breakdown
    guardrail: object = None  # MetricResult of the guardrail metric
    data_end: object = None  # the data's last day


def with_default_control(run, query):
    """A control that is no variant of this experiment (one chosen for another experiment,
    or an old link's) gives way to the default control, and the panel says so."""
    try:
        return run(query), None
    except ParameterError as error:
        if query.control is None or "is not a variant" not in str(error):
            raise
        result = run(replace(query, control=None))
        return result, f"The {error}; showing {result.control} as control."


def compute(context, request: ExperimentRequest) -> ExperimentOutcome:
    backend, declared = context.backend, context.declared.get(request.query.experiment)

    def metric_run(metric: MetricQuery):
        return lambda query: metric_result(backend, MetricView(replace(metric, experiment=query),
                                                               declared))

    overall = replace(request.metric, breakdown=None)
    metric, note = with_default_control(metric_run(overall), request.query)
    control_query = replace(request.query, control=metric.control)
    result = (run_experiment(backend, control_query, context.declared)
              if request.is_plain_conversion else None)
    breakdown = (metric_run(request.metric)(control_query) if request.metric.breakdown
                 else None)
    guardrail = (metric_run(with_metric(request.metric, request.guardrail))(control_query)
                 if request.guardrail else None)
    return ExperimentOutcome(result, note, metric, breakdown, guardrail,
                             data_bounds(backend).last_day)


def alerts(result, note: str | None = None):
    shown = [notice(note)] if note else []
    explanation = srm_explanation(result)
    if explanation:
        shown.append(dbc.Alert([html.Strong("Do not trust these results. "), explanation],
                               color="danger", id=ids.EXPERIMENT_SRM_BANNER))
    if result.excluded_users:
        shown.append(dbc.Alert(
            f"{result.excluded_users:,} users were assigned to more than one variant and are"
            " excluded from every count.", color="warning", className="py-2"))
    return shown


def verdict(result, engine: str):
    """The verdict in the configured engine's terms (STATS_ENGINE); the other engine's lines
    one click away, with a sentence saying what they measure."""
    lines = verdict_lines(result, engine)
    if not lines:
        return None
    other = next(name for name in ENGINES if name != engine)
    other_view = html.Details([
        html.Summary(f"Show the {other} view", className="small"),
        *[html.Div(line, className="verdict-line small") for line in verdict_lines(result, other)],
        html.Div(ENGINE_EXPLANATIONS[other], className="small text-muted mt-1"),
    ], className="mt-2 verdict-other")
    return dbc.Card(dbc.CardBody([
        html.H2("Verdict", className="h5 mb-2"),
        *[html.Div(line, className="verdict-line") for line in lines],
        html.Div(f"{ENGINE_TITLES[engine]}. {ENGINE_EXPLANATIONS[engine]}",
                 className="small text-muted verdict-engine"),
        other_view,
    ]))


def power_text(result) -> str:
    control = result.table[result.table["is_control"]].iloc[0]
    if result.mde is None:
        return "The minimum detectable effect needs a control conversion rate above 0."
    return (
        f"With {control['users']:,} users in {result.control} converting at"
        f" {control['conversion_rate']:.2%}, the smallest absolute lift this test can detect"
        f" (α = 0.05, power 0.8) is {result.mde * 100:.2f} pts"
        f" ({result.mde / control['conversion_rate']:.1%} relative)."
    )


def plan_text(result, relative_effect) -> str:
    control = result.table[result.table["is_control"]].iloc[0]
    try:
        effect = float(relative_effect) / 100
    except (TypeError, ValueError):
        return "Enter the relative lift you want to detect."
    needed = users_per_arm(control["conversion_rate"], control["conversion_rate"] * effect)
    if needed is None:
        return "That effect cannot be planned at this conversion rate."
    return f"Users needed per variant to detect a {effect:.1%} relative lift: {needed:,}."


def guardrail_alerts(outcome: ExperimentOutcome) -> list:
    if outcome.guardrail is None:
        return []
    label = metric_label(outcome.guardrail.query.metric)
    worse = harmed(outcome.guardrail)
    if not worse:
        return [html.Div(f"Guardrail: {lower_first(label)} is not significantly worse in any"
                         " treatment.", className="small text-muted mb-2 guardrail-ok")]
    rows = outcome.guardrail.table.set_index("variant").loc[worse]
    details = "; ".join(
        f"{variant} {row.lift_rel:+.1%} ({row.lift_rel_ci_low:+.1%} to {row.lift_rel_ci_high:+.1%})"
        for variant, row in rows.iterrows())
    headline = f"Guardrail failed: {lower_first(label)} is significantly worse. "
    return [dbc.Alert([html.Strong(headline), details], color="danger",
                      className="py-2 guardrail-failed")]


def metric_verdict(metric, engine: str):
    lines = metric_verdict_lines(metric, engine)
    if not lines:
        return None
    other = next(name for name in ENGINES if name != engine)
    sequential = (" Sequential testing is on: intervals and p-values stay valid however"
                  " often you look." if metric.query.sequential else "")
    cuped = (" CUPED is on: each user's value is adjusted by their"
             f" {metric.query.pre_days:g} days before assignment{removed(metric.table)}."
             if metric.query.cuped else "")
    return dbc.Card(dbc.CardBody([
        html.H2("Verdict", className="h5 mb-2"),
        *[html.Div(line, className="verdict-line") for line in lines],
        html.Div(f"{ENGINE_TITLES[engine]}.{sequential}{cuped}",
                 className="small text-muted verdict-engine"),
        html.Details([
            html.Summary(f"Show the {other} view", className="small"),
            *[html.Div(line, className="verdict-line small")
              for line in metric_verdict_lines(metric, other)],
            html.Div(ENGINE_EXPLANATIONS[other], className="small text-muted mt-1"),
        ], className="mt-2 verdict-other"),
    ]))


def removed(table) -> str:
    """How much of the lift's variance CUPED removed, per treatment."""
    shares = table["variance_reduction"].dropna()
    if shares.empty:
        return ""
    low, high = shares.min(), shares.max()
    share = f"{low:.0%}" if round(low, 2) == round(high, 2) else f"{low:.0%} to {high:.0%}"
    return f", which removed {share} of the lift's variance"


def header(metric, planned_effect, data_end=None) -> list:
    """Start, days running (to the range's end or the data's), users so far, status and the
    MDE of the current sample."""
    if metric.first_day is None:
        return [f"{metric.users:,} users so far"]
    end = metric.query.experiment.end or data_end or metric.last_day
    running = (end - metric.first_day).days + 1
    parts = [f"Started {metric.first_day:%-d %b %Y}", f"{running} days running",
             f"{metric.users:,} users so far", status_text(metric, planned_effect)]
    mde = relative_mde(metric)
    if mde is not None:
        parts.append(f"detectable lift now ±{mde:.1%} (α = 0.05, power 0.8)")
    return [html.Span(part, className="experiment-header-part") for part in parts]


def status_text(metric, planned_effect) -> str:
    if metric.has_srm:
        return "status: sample ratio mismatch"
    try:
        effect = float(planned_effect) / 100
    except (TypeError, ValueError):
        return "status: running"
    control = metric.totals.loc[metric.control]
    stat = metric_stat(metric, control)
    needed = users_per_variant(stat.mean, stat.variance, effect)
    if needed is None:
        return "status: running"
    fewest = int(metric.totals["users"].min())
    if fewest >= needed:
        return f"status: enough users for a {effect:.0%} lift"
    return f"status: running, {fewest / needed:.0%} of the users a {effect:.0%} lift needs"


def metric_stat(metric, sums):
    return unadjusted(statistic(metric.query, sums))


def metric_power(metric, planned_effect) -> tuple[str, str]:
    mde = relative_mde(metric)
    label = lower_first(metric_label(metric.query.metric))
    power = ("The minimum detectable effect needs a control mean above 0 and some variance."
             if mde is None else
             f"With {int(metric.totals['users'].min()):,} users in the smallest variant, the"
             f" smallest relative lift in {label} this test can detect (α = 0.05, power 0.8)"
             f" is {mde:.1%}.")
    try:
        effect = float(planned_effect) / 100
    except (TypeError, ValueError):
        return power, "Enter the relative lift you want to detect."
    stat = metric_stat(metric, metric.totals.loc[metric.control])
    needed = users_per_variant(stat.mean, stat.variance, effect)
    plan = ("That effect cannot be planned for this metric." if needed is None else
            f"Users needed per variant to detect a {effect:.1%} relative lift: {needed:,}.")
    return power, plan


def chart_table(table):
    """With a breakdown, each row of the lift chart is a segment's treatment."""
    if "segment" not in table:
        return table
    return table.assign(variant=table["segment"].astype(str) + experiment_charts.SEGMENT_SEPARATOR
                        + table["variant"])


def records(table) -> list[dict]:
    return table.astype(object).where(table.notna(), None).to_dict("records")


def render(outcome: ExperimentOutcome, request: ExperimentRequest) -> dict:
    metric, result = outcome.metric, outcome.result
    shown = outcome.breakdown or metric
    status = alerts(result or metric, outcome.note) + guardrail_alerts(outcome)
    note = multiple_comparisons_note(shown.table)
    if note:
        status.append(html.Div(note, className="small text-muted mb-2 multiple-comparisons"))
    label = metric_label(metric.query.metric)
    answer = {
        "status": status,
        "header": header(metric, request.planned_effect, outcome.data_end),
        "lift_over_time": experiment_charts.lift_over_time_figure(
            metric.over_time, metric.control, lower_first(label), metric.query.sequential),
        "control_options": variant_order(metric.totals.index, metric.control),
    }
    if result is not None:
        return answer | {
            "verdict": verdict(result, request.engine),
            "lift_chart": experiment_charts.lift_figure(result.table, result.control),
            "cumulative_chart": experiment_charts.cumulative_figure(result.daily,
                                                                     result.control),
            "power": power_text(result), "plan": plan_text(result, request.planned_effect),
            "grid_columns": layout.GRID_COLUMNS, "grid_rows": records(result.table),
        }
    power, plan = metric_power(metric, request.planned_effect)
    return answer | {
        "verdict": metric_verdict(metric, request.engine),
        "lift_chart": experiment_charts.lift_figure(
            chart_table(shown.table), metric.control,
            "always-valid interval" if metric.query.sequential else "95% interval"),
        "cumulative_chart": empty_figure("Cumulative conversion: for plain conversion only.",
                                         height=340),
        "power": power, "plan": plan,
        "grid_columns": layout.metric_grid_columns("segment" in shown.table,
                                                   metric.query.metric),
        "grid_rows": records(shown.table),
    }


def failure(status, message: str) -> dict:
    figure = empty_figure(message, height=300)
    return {"status": status, "header": None, "verdict": None, "lift_chart": figure,
            "cumulative_chart": figure, "lift_over_time": figure, "power": "", "plan": "",
            "grid_columns": no_update, "grid_rows": [], "control_options": no_update}


PANEL = Panel(
    name="experiment", label="Experiment", title="The experiment", tab=ids.TAB_EXPERIMENTS,
    layout=lambda options: layout.panel(options.experiments, options.filters.event_types,
                                        options.filters.segments),
    # The status line holds the warnings: the SRM banner, users in several variants, a failed
    # guardrail.
    status=ids.EXPERIMENT_ALERTS,
    outputs=by_property(
        children={"verdict": ids.EXPERIMENT_VERDICT, "power": ids.EXPERIMENT_POWER,
                  "plan": ids.EXPERIMENT_PLAN, "header": ids.EXPERIMENT_HEADER},
        figure={"lift_chart": ids.EXPERIMENT_LIFT_CHART,
                "cumulative_chart": ids.EXPERIMENT_CUMULATIVE_CHART,
                "lift_over_time": ids.EXPERIMENT_LIFT_OVER_TIME},
        columnDefs={"grid_columns": ids.EXPERIMENT_GRID},
        rowData={"grid_rows": ids.EXPERIMENT_GRID},
        options={"control_options": ids.EXPERIMENT_CONTROL},
    ),
    controls=by_property(value={
        "experiment": ids.EXPERIMENT, "conversion_event": ids.EXPERIMENT_CONVERSION_EVENT,
        "control": ids.EXPERIMENT_CONTROL, "window_days": ids.EXPERIMENT_WINDOW_DAYS,
        "planned_effect": ids.EXPERIMENT_PLANNED_EFFECT, "metric": ids.EXPERIMENT_METRIC,
        "cuped": ids.EXPERIMENT_CUPED, "pre_days": ids.EXPERIMENT_PRE_DAYS,
        "sequential": ids.EXPERIMENT_SEQUENTIAL, "breakdown": ids.EXPERIMENT_BREAKDOWN,
        "guardrail": ids.EXPERIMENT_GUARDRAIL,
    }),
    parse=parse, compute=compute, render=render, failure=failure,
    url_fields=(
        UrlField("experiment", "experiment", Kind.ONE, "experiment"),
        UrlField("conversion", "conversion_event", Kind.ONE, "conversion event"),
        UrlField("control", "control", Kind.ONE, "control", options_later=True),
        UrlField("experiment-window", "window_days", Kind.NUMBER, "conversion window (days)"),
        UrlField("planned-lift", "planned_effect", Kind.NUMBER, "planned lift (%)"),
        UrlField("metric", "metric", Kind.ONE, "metric"),
        UrlField("cuped", "cuped", Kind.FLAG, "CUPED"),
        UrlField("pre-days", "pre_days", Kind.NUMBER, "pre-period (days)"),
        UrlField("sequential", "sequential", Kind.FLAG, "sequential testing"),
        UrlField("experiment-by", "breakdown", Kind.ONE, "experiment breakdown"),
        UrlField("guardrail", "guardrail", Kind.ONE, "guardrail"),
    ),
    exports={ids.EXPERIMENT_EXPORT: ids.EXPERIMENT_GRID},
)
