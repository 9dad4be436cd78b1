"""The growth accounting view: KPI cards, a combined chart, a chart per metric and the grid."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.charts import chart
from layouts.components import data_grid, kpi_card, metric_column
from queries.growth import COLUMNS
from queries.metrics import GROWTH, KPIS

GRID_COLUMNS = [
    {"field": "period_start", "headerName": "Period start", "pinned": "left", "sort": "desc",
     "minWidth": 130},
    *(metric_column(GROWTH[column]) for column in COLUMNS if column in GROWTH),
    {"field": "is_complete", "headerName": "Complete"},
]


def chart_controls(segment_columns: list[str]) -> html.Div:
    return html.Div([
        dbc.Switch(id=ids.GROWTH_SMOOTH, value=False, className="small mb-0 smooth-switch",
                   label="7-day average (at day grain)"),
        dbc.Switch(id=ids.GROWTH_COMPARE, value=False, className="small mb-0",
                   label="Compare with the previous period"),
        html.Div(dcc.Dropdown(id=ids.GROWTH_BREAKDOWN, options=segment_columns,
                              placeholder="Break down by …", className="small"),
                 className="growth-breakdown", **{"aria-label": "Break down by"}),
    ], className="d-flex flex-wrap gap-3 align-items-center chart-controls")


def panel(segment_columns: list[str] | None = None) -> html.Div:
    return html.Div(
        [
            html.Div(id=ids.GROWTH_STATUS),
            dbc.Row([kpi_card(metric) for metric in KPIS], id=ids.GROWTH_KPIS,
                    className="g-3 mb-1"),
            dbc.Card(dbc.CardBody([
                chart_controls(segment_columns or []),
                chart(ids.GROWTH_COMBINED_CHART, 440),
            ]), className="mb-3"),
            drawn_when_shown(
                dbc.Row(metric_chart_cards(), id=ids.GROWTH_METRIC_CHARTS, className="g-3 mb-3"),
                ids.GROWTH_METRIC_CHARTS_SHOWN,
            ),
            dcc.Store(id=ids.GROWTH_METRIC_FIGURES),
            dbc.Card(
                [
                    dbc.CardHeader(
                        [
                            html.Span("Growth table", className="fw-semibold"),
                            dbc.Button(
                                "Download CSV", id=ids.GROWTH_EXPORT, size="sm",
                                color="secondary", outline=True,
                            ),
                        ],
                        className="d-flex justify-content-between align-items-center",
                    ),
                    dbc.CardBody(data_grid(ids.GROWTH_GRID, GRID_COLUMNS, "growth.csv")),
                ],
                className="mb-4",
            ),
        ]
    )


def drawn_when_shown(content, shown_store: str) -> html.Div:
    """Content whose charts draw only while it is on screen (or close to it): assets/panels.js
    watches the box and keeps `shown_store` true while it is in view."""
    return html.Div([content, dcc.Store(id=shown_store, data=False)],
                    **{"data-shown-store": shown_store})


def metric_chart_cards() -> list[dbc.Col]:
    """A card per KPI metric, drawn once: a new view updates each chart's figure in place
    (Plotly.react), which costs the browser far less than mounting new charts."""
    return [
        dbc.Col(
            dbc.Card(dbc.CardBody(
                chart(ids.metric_graph(metric.column), 240, displayModeBar=False))),
            xs=12, md=6, xl=4, className="metric-chart",
            id=ids.metric_chart(metric.column),
        )
        for metric in KPIS
    ]
