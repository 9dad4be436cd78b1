"""The experiments view: selector, warnings, verdict, lift and cumulative charts, power box."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.charts import chart
from layouts.components import data_grid, metric_column
from layouts.revenue import grid_card, labelled
from queries.experiments import COLUMNS
from queries.metrics import EXPERIMENT

GRID_COLUMNS = [
    {"field": "variant", "headerName": "Variant", "pinned": "left"},
    {"field": "is_control", "headerName": "Control"},
    *(metric_column(EXPERIMENT[column]) for column in COLUMNS if column in EXPERIMENT),
]


def controls(experiments: list[str], event_types: list[str]) -> dbc.Row:
    conversion = "purchase" if "purchase" in event_types else (event_types or [None])[0]
    return dbc.Row(
        [
            labelled("Experiment", dcc.Dropdown(
                id=ids.EXPERIMENT, options=experiments,
                value=experiments[0] if experiments else None, clearable=False), xs=12, md=3),
            labelled("Conversion event", dcc.Dropdown(
                id=ids.EXPERIMENT_CONVERSION_EVENT, options=event_types, value=conversion,
                clearable=False), xs=6, md=2),
            labelled("Control", dcc.Dropdown(
                id=ids.EXPERIMENT_CONTROL, placeholder="control, else A, else first"),
                xs=6, md=2),
            labelled("Conversion window (days)", dbc.Input(
                id=ids.EXPERIMENT_WINDOW_DAYS, type="number", min=0.01, step="any",
                placeholder="any time after assignment", size="sm", debounce=True), xs=6, md=2),
        ],
        className="g-3 align-items-end mb-3",
    )


def no_experiments_note(experiments: list[str]):
    if experiments:
        return None
    return dbc.Alert(
        "No experiments yet: load an assignments file (`python -m app load EVENTS "
        "--assignments FILE`) or declare one in EXPERIMENTS.", color="light")


def panel(experiments: list[str], event_types: list[str]) -> html.Div:
    power_box = dbc.Card(dbc.CardBody([
        html.Div(id=ids.EXPERIMENT_POWER, className="small mb-2"),
        dbc.InputGroup([
            dbc.Label("Plan: detect a relative lift of", html_for=ids.EXPERIMENT_PLANNED_EFFECT,
                      className="input-group-text mb-0"),
            dbc.Input(id=ids.EXPERIMENT_PLANNED_EFFECT, type="number", value=5, min=0.1,
                      step="any", debounce=True),
            dbc.InputGroupText("%"),
        ], size="sm", className="mb-2"),
        html.Div(id=ids.EXPERIMENT_PLAN, className="small"),
    ]), className="h-100")
    return html.Div([
        no_experiments_note(experiments),
        controls(experiments, event_types),
        html.Div(id=ids.EXPERIMENT_ALERTS),
        html.Div(id=ids.EXPERIMENT_VERDICT, className="mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody(chart(ids.EXPERIMENT_LIFT_CHART, 180))), md=8),
            dbc.Col(power_box, md=4),
        ], className="g-3 mb-3"),
        dbc.Card(dbc.CardBody(chart(ids.EXPERIMENT_CUMULATIVE_CHART, 340)),
            className="mb-3"),
        grid_card("Variants", data_grid(ids.EXPERIMENT_GRID, GRID_COLUMNS, "experiment.csv",
                                        fit_columns=False), ids.EXPERIMENT_EXPORT),
    ])
