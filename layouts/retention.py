"""The retention view: controls, the cohort heatmap, the retention curve and the grid."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.charts import chart
from layouts.components import data_grid, label_target, metric_column, unit_formatter
from layouts.retention_charts import HEATMAP_HEIGHT, HEATMAP_MARGIN
from queries.metrics import RETENTION

MODE_OPTIONS = [
    {"label": "In period k", "value": "exact"},
    {"label": "In period k or later", "value": "unbounded"},
]
VALUE_OPTIONS = [{"label": "%", "value": "rate"}, {"label": "Users", "value": "users"}]


def toggle(component_id: str, options: list[dict], value: str) -> dbc.RadioItems:
    return dbc.RadioItems(
        id=component_id, options=options, value=value, className="btn-group",
        inputClassName="btn-check", labelClassName="btn btn-outline-secondary btn-sm",
        labelCheckedClassName="active",
    )


def control(label: str, component, width) -> dbc.Col:
    return dbc.Col(
        [dbc.Label(label, className="filter-label", **label_target(component)),
         html.Div(component)], xs=12, md=width
    )


def controls(event_types: list[str]) -> dbc.Row:
    return dbc.Row(
        [
            control("Counted as retained", toggle(ids.RETENTION_MODE, MODE_OPTIONS, "exact"),
                    "auto"),
            control("Show", toggle(ids.RETENTION_VALUES, VALUE_OPTIONS, "rate"), "auto"),
            control("Cohort event", dcc.Dropdown(
                id=ids.RETENTION_START_EVENT, options=event_types, placeholder="Any event"), 2),
            control("Return event", dcc.Dropdown(
                id=ids.RETENTION_RETURN_EVENT, options=event_types, placeholder="Any event"), 2),
            control("Periods shown", dbc.Input(
                id=ids.RETENTION_MAX_PERIODS, type="number", min=1, step=1, value=26,
                size="sm", debounce=True), 1),
        ],
        className="g-3 align-items-end mb-3",
    )


def panel(event_types: list[str], segment_columns: list[str] | None = None) -> html.Div:
    return html.Div(
        [
            controls(event_types),
            html.Div(id=ids.RETENTION_STATUS),
            dbc.Card(dbc.CardBody(heatmap_box()), className="mb-3"),
            dbc.Card(
                dbc.CardBody([
                    dbc.Row([
                        control("Overlay cohorts", dcc.Dropdown(
                            id=ids.RETENTION_OVERLAY, multi=True,
                            placeholder="Pick cohorts to compare"), 6),
                        control("Break down the curve by", dcc.Dropdown(
                            id=ids.RETENTION_BREAKDOWN, options=segment_columns or [],
                            placeholder="No breakdown"), 3),
                    ]),
                    chart(ids.RETENTION_CURVE, 360),
                ]),
                className="mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(
                        [
                            html.Span("Retention table", className="fw-semibold"),
                            dbc.Button("Download CSV", id=ids.RETENTION_EXPORT, size="sm",
                                       color="secondary", outline=True),
                        ],
                        className="d-flex justify-content-between align-items-center",
                    ),
                    dbc.CardBody(data_grid(
                        ids.RETENTION_GRID, [], "retention.csv", fit_columns=False)),
                ],
                className="mb-4",
            ),
        ]
    )


def heatmap_box() -> html.Div:
    """The heatmap scrolls sideways inside its card (a phone), the cohort labels fixed at
    its left; the labels' top and bottom space match the plot's margins, so rows line up."""
    labels = html.Div(
        [html.Div("cohort · users", className="heatmap-labels-head",
                  style={"height": f"{HEATMAP_MARGIN['t']}px"}),
         html.Div(id=ids.RETENTION_HEATMAP_LABELS, className="heatmap-label-rows"),
         html.Div(style={"height": f"{HEATMAP_MARGIN['b']}px", "flex": "none"})],
        className="heatmap-labels", style={"height": f"{HEATMAP_HEIGHT}px"},
    )
    plot = html.Div(chart(ids.RETENTION_HEATMAP, HEATMAP_HEIGHT), id=ids.RETENTION_HEATMAP_BOX,
                    className="heatmap-plot")
    return html.Div([labels, plot], className="heatmap-scroll", tabIndex=0,
                    **{"aria-label": "Retention heatmap, scrolls sideways", "role": "region"})


def grid_columns(period_indexes: list[int], show_counts: bool) -> list[dict]:
    """Column k holds the retained users or the retention rate of period k."""
    shown = RETENTION["retained_users" if show_counts else "retention_rate"]
    formatter = unit_formatter(shown.unit)
    return [
        {"field": "cohort_start", "headerName": "Cohort", "pinned": "left", "sort": "desc",
         "minWidth": 130},
        metric_column(RETENTION["cohort_size"], pinned="left"),
        *[
            {
                "field": f"k{k}", "headerName": str(k), "valueFormatter": formatter,
                "width": 84, "minWidth": 76, "filter": False,
                "cellClassRules": {"incomplete-cell": f"params.data.open_k{k}"},
            }
            for k in period_indexes
        ],
    ]
