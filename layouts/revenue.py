"""The revenue view: window KPI cards, the trend with a breakdown, and the conversion funnel."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.charts import chart
from layouts.components import data_grid, label_target, metric_column, shown, window_card
from queries.funnel import COLUMNS as FUNNEL_TABLE_COLUMNS
from queries.funnel import DEFAULT_STEPS
from queries.metrics import FUNNEL, REVENUE, WINDOW_KPIS
from queries.revenue import WindowComparison

REVENUE_COLUMNS = [
    {"field": "period_start", "headerName": "Period start", "pinned": "left", "sort": "desc",
     "minWidth": 130},
    *(metric_column(REVENUE[column]) for column in ("revenue", "orders", "paying_users")),
    # Among revenue columns, "Active" alone would not say who is active.
    metric_column(REVENUE["active_users"], headerName=REVENUE["active_users"].title),
    *(metric_column(REVENUE[column]) for column in ("aov", "arpu")),
    {"field": "is_complete", "headerName": "Complete"},
]
FUNNEL_COLUMNS = [
    {"field": "segment_value", "headerName": "Segment"},
    {"field": "step", "headerName": "Step"},
    {"field": "event_type", "headerName": "Event"},
    *(metric_column(FUNNEL[column]) for column in FUNNEL_TABLE_COLUMNS if column in FUNNEL),
]


def window_cards(comparison: WindowComparison) -> list[dbc.Col]:
    """A card per window metric: the window's value against the previous window's."""
    no_previous = (None if comparison.previous_has_data
                   else f"no data before {comparison.data_start:%-d %b %Y}")
    return [
        window_card(
            metric.title,
            getattr(comparison, metric.column),
            getattr(comparison, f"previous_{metric.column}"),
            lambda value, unit=metric.unit: shown(value, unit),
            metric.definition,
            ids.window_card(metric.column),
            no_previous,
        )
        for metric in WINDOW_KPIS
    ]


def labelled(label: str, component, **width) -> dbc.Col:
    """A control with its label, tied to it for screen readers."""
    return dbc.Col([dbc.Label(label, className="filter-label", **label_target(component)),
                    html.Div(component)], **width)





def grid_card(title: str, grid, button_id: str) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span(title, className="fw-semibold"),
                    dbc.Button("Download CSV", id=button_id, size="sm", color="secondary",
                               outline=True),
                ],
                className="d-flex justify-content-between align-items-center",
            ),
            dbc.CardBody(grid),
        ],
        className="mb-4",
    )


def revenue_section(segment_columns: list[str]) -> html.Div:
    controls = dbc.Row(
        [
            labelled("Break down by", dcc.Dropdown(
                id=ids.REVENUE_BREAKDOWN, options=segment_columns, placeholder="No breakdown"),
                xs=12, md=3),
            labelled("Previous window", dbc.Switch(
                id=ids.REVENUE_OVERLAY_PREVIOUS, label="Overlay day by day", value=True),
                xs=12, md=3),
            labelled("Trend", dbc.Switch(
                id=ids.REVENUE_COMPARE, label="Compare with the previous period", value=False),
                xs=12, md=3),
        ],
        className="g-3 align-items-end mb-3",
    )
    return html.Div(
        [
            controls,
            html.Div(id=ids.REVENUE_STATUS),
            dbc.Row(id=ids.REVENUE_KPIS, className="g-3 mb-1"),
            dbc.Card(dbc.CardBody(chart(ids.REVENUE_TREND, 520)), className="mb-3"),
            dbc.Card(dbc.CardBody(chart(ids.REVENUE_WINDOW_CHART, 320)), className="mb-3"),
            grid_card("Revenue table", data_grid(ids.REVENUE_GRID, REVENUE_COLUMNS, "revenue.csv"),
                      ids.REVENUE_EXPORT),
        ]
    )


def funnel_section(event_types: list[str], segment_columns: list[str]) -> html.Div:
    default_steps = [step for step in DEFAULT_STEPS if step in event_types] or event_types[:3]
    controls = dbc.Row(
        [
            labelled("Funnel steps, in order", dcc.Dropdown(
                id=ids.FUNNEL_STEPS, options=event_types, value=default_steps, multi=True),
                xs=12, md=5),
            labelled("Conversion window (days)", dbc.Input(
                id=ids.FUNNEL_WINDOW_DAYS, type="number", min=0.01, max=366, step="any",
                value=7, size="sm", debounce=True), xs=6, md=2),
            labelled("Break down by", dcc.Dropdown(
                id=ids.FUNNEL_BREAKDOWN, options=segment_columns, placeholder="No breakdown"),
                xs=6, md=3),
        ],
        className="g-3 align-items-end mb-3",
    )
    return html.Div(
        [
            html.H5("Conversion funnel", className="mt-2"),
            controls,
            html.Div(id=ids.FUNNEL_STATUS),
            dbc.Row(
                [
                    dbc.Col(dbc.Card(dbc.CardBody(chart(ids.FUNNEL_CHART, 360))), md=6),
                    dbc.Col(dbc.Card(dbc.CardBody(chart(ids.FUNNEL_BREAKDOWN_CHART, 360))), md=6),
                ],
                className="g-3 mb-3",
            ),
            grid_card("Funnel table", data_grid(ids.FUNNEL_GRID, FUNNEL_COLUMNS, "funnel.csv"),
                      ids.FUNNEL_EXPORT),
        ]
    )
