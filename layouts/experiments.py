"""The experiments view: selector, warnings, verdict, lift and cumulative charts, power box."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.charts import chart
from layouts.components import data_grid, grid_number, metric_column
from layouts.revenue import grid_card, labelled
from queries.experiment_metrics import DEFAULT_PRE_DAYS, METRICS, SUM_PREFIX, metric_label
from queries.experiments import COLUMNS
from queries.metrics import EXPERIMENT

GRID_COLUMNS = [
    {"field": "variant", "headerName": "Variant", "pinned": "left"},
    {"field": "is_control", "headerName": "Control"},
    *(metric_column(EXPERIMENT[column]) for column in COLUMNS if column in EXPERIMENT),
]


MONEY_METRICS = ("revenue_per_user", "aov")


def metric_grid_columns(by_segment: bool, metric: str) -> list[dict]:
    """The columns of a metric's table (queries/experiment_metrics.py EXPORT_COLUMNS)."""
    value = grid_number(",.2f", money=metric in MONEY_METRICS)
    columns = [
        *([{"field": "segment", "headerName": "Segment", "pinned": "left"}] if by_segment
          else []),
        {"field": "variant", "headerName": "Variant", "pinned": "left"},
        {"field": "is_control", "headerName": "Control"},
        metric_column(EXPERIMENT["users"]),
        {"field": "mean", "headerName": "Mean", "valueFormatter": value},
        {"field": "std_dev", "headerName": "Std dev", "valueFormatter": value},
        {"field": "lift_abs", "headerName": "Lift (abs)", "valueFormatter": value},
        *(metric_column(EXPERIMENT[column]) for column in (
            "lift_rel", "lift_rel_ci_low", "lift_rel_ci_high", "p_value",
            "chance_to_beat_control", "srm_p_value")),
        {"field": "variance_reduction", "headerName": "CUPED variance reduction",
         "valueFormatter": grid_number(".1%")},
    ]
    # Ids of their own: the grid would otherwise keep the conversion table's formats for the
    # columns both tables have (lift_abs is points there, money or counts here).
    return [column | {"colId": f"metric_{column['field']}"} for column in columns]


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


def is_numeric(values: list[str]) -> bool:
    try:
        return bool(values) and all(float(value) == float(value) for value in values)
    except (TypeError, ValueError):
        return False


def metric_options(segments: dict[str, list[str]]) -> list[dict]:
    """The built-in metrics, then the per-user sum of each column whose values are numbers."""
    names = [*METRICS, *(SUM_PREFIX + column for column, values in segments.items()
                         if is_numeric(values))]
    return [{"label": metric_label(name), "value": name} for name in names]


def metric_controls(segments: dict[str, list[str]]) -> dbc.Row:
    options = metric_options(segments)
    return dbc.Row(
        [
            labelled("Metric", dcc.Dropdown(id=ids.EXPERIMENT_METRIC, options=options,
                                            value="conversion", clearable=False), xs=6, md=3),
            labelled("Break down by", dcc.Dropdown(
                id=ids.EXPERIMENT_BREAKDOWN, options=list(segments),
                placeholder="No breakdown"), xs=6, md=2),
            labelled("Guardrail", dcc.Dropdown(
                id=ids.EXPERIMENT_GUARDRAIL, options=options, placeholder="No guardrail"),
                xs=6, md=2),
            labelled("CUPED", dbc.Switch(
                id=ids.EXPERIMENT_CUPED, value=False, label="adjust by the pre-period"),
                xs=6, md=2),
            labelled("Pre-period (days)", dbc.Input(
                id=ids.EXPERIMENT_PRE_DAYS, type="number", min=1, max=366, step="any",
                value=DEFAULT_PRE_DAYS, size="sm", debounce=True), xs=6, md=1),
            labelled("Sequential", dbc.Switch(
                id=ids.EXPERIMENT_SEQUENTIAL, value=False, label="safe to peek daily"),
                xs=6, md=2),
        ],
        className="g-3 align-items-end mb-3",
    )


def no_experiments_note(experiments: list[str]):
    if experiments:
        return None
    return dbc.Alert(
        "No experiments yet: load an assignments file (`python -m app load EVENTS "
        "--assignments FILE`) or declare one in EXPERIMENTS.", color="light")


def panel(experiments: list[str], event_types: list[str],
          segments: dict[str, list[str]] | None = None) -> html.Div:
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
        metric_controls(segments or {}),
        html.Div(id=ids.EXPERIMENT_HEADER, className="experiment-header small mb-2"),
        html.Div(id=ids.EXPERIMENT_ALERTS),
        html.Div(id=ids.EXPERIMENT_VERDICT, className="mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody(chart(ids.EXPERIMENT_LIFT_CHART, 180))), md=8),
            dbc.Col(power_box, md=4),
        ], className="g-3 mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody(chart(ids.EXPERIMENT_LIFT_OVER_TIME, 340))), md=6),
            dbc.Col(dbc.Card(dbc.CardBody(chart(ids.EXPERIMENT_CUMULATIVE_CHART, 340))), md=6),
        ], className="g-3 mb-3"),
        grid_card("Variants", data_grid(ids.EXPERIMENT_GRID, GRID_COLUMNS, "experiment.csv",
                                        fit_columns=False), ids.EXPERIMENT_EXPORT),
    ])
