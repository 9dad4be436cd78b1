"""Experiments view: one experiment's variants, verdict, warnings, charts and power box."""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from callbacks.panel import Panel, by_property
from layouts import experiment_charts, ids
from layouts import experiments as layout
from layouts.charts import empty_figure
from queries.errors import ParameterError
from queries.experiment_stats import users_per_arm
from queries.experiments import (
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


def experiment_query(view, experiment, conversion_event, control, window_days):
    try:
        window = float(window_days) if window_days not in (None, "") else None
    except (TypeError, ValueError):
        raise ParameterError("the conversion window must be a number of days") from None
    return ExperimentQuery(
        experiment, conversion_event or "purchase", control, view.start, view.end, window,
        view.segment.with_values(ACTIVITY_COLUMN, []),
    )


def parse(view, controls, _context) -> ExperimentRequest | None:
    if not controls.get("experiment"):
        return None
    query = experiment_query(view, controls["experiment"], controls.get("conversion_event"),
                             controls.get("control"), controls.get("window_days"))
    return ExperimentRequest(query, controls.get("planned_effect"))


def compute(context, request: ExperimentRequest):
    return run_experiment(context.backend, request.query, context.declared)


def alerts(result):
    shown = []
    explanation = srm_explanation(result)
    if explanation:
        shown.append(dbc.Alert([html.Strong("Do not trust these results. "), explanation],
                               color="danger", id=ids.EXPERIMENT_SRM_BANNER))
    if result.excluded_users:
        shown.append(dbc.Alert(
            f"{result.excluded_users:,} users were assigned to more than one variant and are"
            " excluded from every count.", color="warning", className="py-2"))
    return shown


def verdict(result):
    lines = verdict_lines(result)
    if not lines:
        return None
    return dbc.Card(dbc.CardBody([html.H5("Verdict", className="mb-2"),
                                  *[html.Div(line, className="verdict-line") for line in lines]]))


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


def render(result, request: ExperimentRequest) -> dict:
    rows = result.table.astype(object).where(result.table.notna(), None).to_dict("records")
    return {
        "status": alerts(result),
        "verdict": verdict(result),
        "lift_chart": experiment_charts.lift_figure(result.table),
        "cumulative_chart": experiment_charts.cumulative_figure(result.daily, result.control),
        "power": power_text(result),
        "plan": plan_text(result, request.planned_effect),
        "grid_rows": rows,
        "control_options": list(result.table["variant"]),
    }


def failure(status, message: str) -> dict:
    figure = empty_figure(message, height=300)
    return {"status": status, "verdict": None, "lift_chart": figure, "cumulative_chart": figure,
            "power": "", "plan": "", "grid_rows": [], "control_options": no_update}


def register_control_reset(app) -> None:
    """Another experiment has other variants: its control is chosen afresh."""

    @app.callback(
        Output(ids.EXPERIMENT_CONTROL, "value"),
        Input(ids.EXPERIMENT, "value"),
        State(ids.EXPERIMENT_CONTROL, "value"),
        prevent_initial_call=True,
    )
    def reset_control(_experiment, _control):
        return None


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
    url_fields={"experiment": "experiment"},
    exports={ids.EXPERIMENT_EXPORT: ids.EXPERIMENT_GRID},
    extra_callbacks=register_control_reset,
)
