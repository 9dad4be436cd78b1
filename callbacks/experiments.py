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
from queries.errors import ParameterError
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


@dataclass(frozen=True)
class ExperimentRequest:
    query: ExperimentQuery
    planned_effect: object
    engine: str = "bayesian"


def experiment_query(view, experiment, conversion_event, control, window_days):
    try:
        window = float(window_days) if window_days not in (None, "") else None
    except (TypeError, ValueError):
        raise ParameterError("the conversion window must be a number of days") from None
    return ExperimentQuery(
        experiment, conversion_event or "purchase", control, view.start, view.end, window,
        view.segment.with_values(ACTIVITY_COLUMN, []),
    )


def parse(view, controls, context) -> ExperimentRequest | None:
    if not controls.get("experiment"):
        return None
    query = experiment_query(view, controls["experiment"], controls.get("conversion_event"),
                             controls.get("control"), controls.get("window_days"))
    return ExperimentRequest(query, controls.get("planned_effect"), context.config.stats_engine)


@dataclass(frozen=True)
class ExperimentOutcome:
    result: object
    note: str | None = None  # the control asked for was not a variant: which one is used


def compute(context, request: ExperimentRequest) -> ExperimentOutcome:
    """A control that is no variant of this experiment (one chosen for another experiment,
    or an old link's) gives way to the default control, and the panel says so."""
    query = request.query
    try:
        return ExperimentOutcome(run_experiment(context.backend, query, context.declared))
    except ParameterError as error:
        if query.control is None or "is not a variant" not in str(error):
            raise
        result = run_experiment(context.backend, replace(query, control=None), context.declared)
        return ExperimentOutcome(result, f"The {error}; showing {result.control} as control.")


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


def render(outcome: ExperimentOutcome, request: ExperimentRequest) -> dict:
    result = outcome.result
    rows = result.table.astype(object).where(result.table.notna(), None).to_dict("records")
    return {
        "status": alerts(result, outcome.note),
        "verdict": verdict(result, request.engine),
        "lift_chart": experiment_charts.lift_figure(result.table, result.control),
        "cumulative_chart": experiment_charts.cumulative_figure(result.daily, result.control),
        "power": power_text(result),
        "plan": plan_text(result, request.planned_effect),
        "grid_rows": rows,
        "control_options": variant_order(result.table["variant"], result.control),
    }


def failure(status, message: str) -> dict:
    figure = empty_figure(message, height=300)
    return {"status": status, "verdict": None, "lift_chart": figure, "cumulative_chart": figure,
            "power": "", "plan": "", "grid_rows": [], "control_options": no_update}


PANEL = Panel(
    name="experiment", label="Experiment", title="The experiment", tab=ids.TAB_EXPERIMENTS,
    layout=lambda options: layout.panel(options.experiments, options.filters.event_types),
    # The status line holds the warnings: the SRM banner, users in several variants.
    status=ids.EXPERIMENT_ALERTS,
    outputs=by_property(
        children={"verdict": ids.EXPERIMENT_VERDICT, "power": ids.EXPERIMENT_POWER,
                  "plan": ids.EXPERIMENT_PLAN},
        figure={"lift_chart": ids.EXPERIMENT_LIFT_CHART,
                "cumulative_chart": ids.EXPERIMENT_CUMULATIVE_CHART},
        rowData={"grid_rows": ids.EXPERIMENT_GRID},
        options={"control_options": ids.EXPERIMENT_CONTROL},
    ),
    controls=by_property(value={
        "experiment": ids.EXPERIMENT, "conversion_event": ids.EXPERIMENT_CONVERSION_EVENT,
        "control": ids.EXPERIMENT_CONTROL, "window_days": ids.EXPERIMENT_WINDOW_DAYS,
        "planned_effect": ids.EXPERIMENT_PLANNED_EFFECT,
    }),
    parse=parse, compute=compute, render=render, failure=failure,
    url_fields=(
        UrlField("experiment", "experiment", Kind.ONE, "experiment"),
        UrlField("conversion", "conversion_event", Kind.ONE, "conversion event"),
        UrlField("control", "control", Kind.ONE, "control", options_later=True),
        UrlField("experiment-window", "window_days", Kind.NUMBER, "conversion window (days)"),
        UrlField("planned-lift", "planned_effect", Kind.NUMBER, "planned lift (%)"),
    ),
    exports={ids.EXPERIMENT_EXPORT: ids.EXPERIMENT_GRID},
)
