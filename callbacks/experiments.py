"""Experiments view: one experiment's variants, verdict, warnings, charts and power box."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from callbacks.buttons import export_grid_on_click
from callbacks.guard import guarded
from callbacks.view_state import drawn_on_request, filter_bar_inputs, growth_query
from layouts import experiment_charts, ids
from layouts.charts import empty_figure
from queries.errors import ParameterError
from queries.experiment_stats import users_per_arm
from queries.experiments import (
    ExperimentQuery,
    parse_declared,
    run_experiment,
    srm_explanation,
    verdict_lines,
)
from queries.filters import ACTIVITY_COLUMN

OUTPUTS = 8


def experiment_query(filter_values, experiment, conversion_event, control, window_days):
    view = growth_query(*filter_values)
    try:
        window = float(window_days) if window_days not in (None, "") else None
    except (TypeError, ValueError):
        raise ParameterError("the conversion window must be a number of days") from None
    return ExperimentQuery(
        experiment, conversion_event or "purchase", control, view.start, view.end, window,
        view.segment.with_values(ACTIVITY_COLUMN, []),
    )


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


def render(result, planned_effect):
    rows = result.table.astype(object).where(result.table.notna(), None).to_dict("records")
    variants = list(result.table["variant"])
    return (
        alerts(result),
        verdict(result),
        experiment_charts.lift_figure(result.table),
        experiment_charts.cumulative_figure(result.daily, result.control),
        power_text(result),
        plan_text(result, planned_effect),
        rows,
        variants,
    )


def failure(card, message: str):
    figure = empty_figure(message, height=300)
    return card, None, figure, figure, "", "", [], no_update


def register(app, backend, config) -> None:
    declared = parse_declared(config.experiments)

    @app.callback(
        Output(ids.EXPERIMENT_ALERTS, "children"),
        Output(ids.EXPERIMENT_VERDICT, "children"),
        Output(ids.EXPERIMENT_LIFT_CHART, "figure"),
        Output(ids.EXPERIMENT_CUMULATIVE_CHART, "figure"),
        Output(ids.EXPERIMENT_POWER, "children"),
        Output(ids.EXPERIMENT_PLAN, "children"),
        Output(ids.EXPERIMENT_GRID, "rowData"),
        Output(ids.EXPERIMENT_CONTROL, "options"),
        *drawn_on_request(app, ids.EXPERIMENT_REQUEST, [
            *filter_bar_inputs(),
            Input(ids.EXPERIMENT, "value"),
            Input(ids.EXPERIMENT_CONVERSION_EVENT, "value"),
            Input(ids.EXPERIMENT_CONTROL, "value"),
            Input(ids.EXPERIMENT_WINDOW_DAYS, "value"),
            Input(ids.EXPERIMENT_PLANNED_EFFECT, "value"),
        ]),
        prevent_initial_call=True,
    )
    def update_experiment(_request, grain, start, end, activity, segment_values, segment_ids,
                          experiment, conversion_event, control, window_days, planned_effect):
        if not experiment:
            return (no_update,) * OUTPUTS
        filter_values = (grain, start, end, activity, segment_values, segment_ids)
        try:
            query = experiment_query(filter_values, experiment, conversion_event, control,
                                     window_days)
            return guarded(
                "The experiment",
                lambda: render(run_experiment(backend, query, declared), planned_effect),
                failure,
            )
        except ParameterError as error:
            if "start date" in str(error):
                return (no_update,) * OUTPUTS  # the filter bar explains what to fix
            return failure(dbc.Alert(str(error), color="warning"), str(error))

    @app.callback(
        Output(ids.EXPERIMENT_CONTROL, "value"),
        Input(ids.EXPERIMENT, "value"),
        State(ids.EXPERIMENT_CONTROL, "value"),
        prevent_initial_call=True,
    )
    def reset_control(_experiment, _control):
        return None

    export_grid_on_click(app, ids.EXPERIMENT_EXPORT, ids.EXPERIMENT_GRID)
