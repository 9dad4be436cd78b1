"""The diagnostics section: the queries behind the current view, with their SQL folded."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from layouts.components import data_grid, grid_number, unit_formatter
from queries.metrics import COUNT

COLUMNS = [
    {"field": "panel", "headerName": "Panel"},
    # The notes in this column are sentences: they wrap instead of being cut off.
    {"field": "label", "headerName": "Query", "width": 420, "minWidth": 240, "wrapText": True,
     "autoHeight": True, "cellStyle": {"lineHeight": "1.4", "wordBreak": "normal",
                                       "paddingTop": "10px", "paddingBottom": "10px"}},
    {"field": "backend", "headerName": "Backend"},
    {"field": "rows", "headerName": "Rows", "valueFormatter": unit_formatter(COUNT)},
    {"field": "milliseconds", "headerName": "Milliseconds", "valueFormatter": grid_number(",.1f")},
    {"field": "cache", "headerName": "Cache"},
    {"field": "bytes_processed", "headerName": "Bytes processed",
     "valueFormatter": unit_formatter(COUNT)},
    {"field": "backend_cache", "headerName": "BigQuery cache"},
]


def section() -> html.Div:
    body = dbc.CardBody([
        html.Div(id=ids.DIAGNOSTICS_NOTE),
        data_grid(ids.DIAGNOSTICS_GRID, COLUMNS, "diagnostics.csv"),
        html.Div(id=ids.DIAGNOSTICS_SQL, className="mt-2"),
    ])
    return html.Div(
        [
            dbc.Button("Diagnostics: queries behind this view", id=ids.DIAGNOSTICS_TOGGLE,
                       color="link", size="sm", className="px-0"),
            dbc.Collapse(dbc.Card(body), id=ids.DIAGNOSTICS_COLLAPSE, is_open=False),
        ],
        className="diagnostics mb-4",
    )


def sql_details(rows: list[dict]) -> list[html.Details]:
    """One folded block per query: its SQL and bound parameters."""
    return [
        html.Details(
            [
                html.Summary(f"{row['panel']} · {row['label']} · cache {row['cache']}"),
                html.Pre(row["sql"], className="small mb-1"),
                html.Pre(f"parameters: {row['params']}", className="small text-muted"),
            ],
            className="diagnostics-sql",
        )
        for row in rows
        if row.get("sql")
    ]


def note(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="light", className="py-2 small mb-2")
