"""Engagement on the growth tab: DAU/WAU/MAU ratios over time and stickiness (users by the
number of days of a period they were active on), with the stickiness table."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.charts import (
    OTHER_COLOUR,
    PALETTE,
    base_layout,
    chart,
    day_xaxis,
    empty_figure,
    figure,
    iso_dates,
    plain,
)
from layouts.components import data_grid, grid_number, unit_formatter
from layouts.growth import drawn_when_shown
from layouts.revenue import grid_card
from queries.metrics import COUNT, RATE, hover

RATIOS = (("dau_over_mau", "DAU / MAU"), ("dau_over_wau", "DAU / WAU"),
          ("wau_over_mau", "WAU / MAU"))
STICKINESS_COLUMNS = [
    {"field": "period_start", "headerName": "Period start", "sort": "desc"},
    {"field": "days_active", "headerName": "Days active"},
    {"field": "users", "headerName": "Users", "valueFormatter": unit_formatter(COUNT)},
    {"field": "share", "headerName": "Share of active users",
     "valueFormatter": grid_number(".1%")},
    {"field": "is_complete", "headerName": "Complete"},
]


def section() -> html.Div:
    return html.Div([
        html.H2("Engagement", className="h5 mt-2"),
        html.Div(id=ids.ENGAGEMENT_STATUS),
        drawn_when_shown(html.Div([
            dbc.Row([
                dbc.Col(dbc.Card(dbc.CardBody(chart(ids.ENGAGEMENT_RATIOS_CHART, 320))), md=7),
                dbc.Col(dbc.Card(dbc.CardBody(chart(ids.STICKINESS_CHART, 320))), md=5),
            ], className="g-3 mb-3"),
            grid_card("Stickiness table", data_grid(ids.STICKINESS_GRID, STICKINESS_COLUMNS,
                                                    "stickiness.csv"), ids.STICKINESS_EXPORT),
        ]), ids.ENGAGEMENT_SHOWN),
        dcc.Store(id=ids.ENGAGEMENT_FIGURES),
    ], className="mb-4")


def ratios_figure(engagement: pd.DataFrame, data_start=None) -> dict:
    """DAU/MAU (Facebook's stickiness), DAU/WAU and WAU/MAU per day; the data's first 27
    days are left out, as their months reach back before the data."""
    if data_start is not None:
        engagement = engagement[pd.to_datetime(engagement["day"])
                                >= pd.Timestamp(data_start) + pd.Timedelta(days=27)]
    if engagement.empty:
        return empty_figure("No activity in this date range and segment.")
    days = iso_dates(engagement["day"])
    # Four decimals are a hundredth of a point: more would only weigh on every answer.
    data = [{"type": "scatter", "x": days, "y": plain(engagement[column].round(4)),
             "name": label,
             "mode": "lines", "line": {"color": PALETTE[index], "width": 2},
             "hovertemplate": hover("y", RATE, decimals=1)}
            for index, (column, label) in enumerate(RATIOS)]
    layout = base_layout(320, "Engagement: daily users over weekly and monthly users")
    layout |= {"yaxis": {"tickformat": RATE.tick, "rangemode": "tozero"},
               "xaxis": day_xaxis(engagement["day"].min(), engagement["day"].max())}
    return figure(data, layout)


def stickiness_figure(stickiness: pd.DataFrame, grain: str) -> dict:
    """The share of active users by days active, in the latest complete period against the one
    before it (an open period would look less sticky than it is)."""
    complete = stickiness[stickiness["is_complete"]]
    starts = sorted(complete["period_start"].unique())[-2:]
    if not starts:
        return empty_figure(f"No complete {grain} in this date range yet.")
    data = []
    for start, colour in zip(starts, [OTHER_COLOUR, PALETTE[0]][-len(starts):], strict=True):
        rows = complete[complete["period_start"] == start]
        data.append({"type": "bar", "x": plain(rows["days_active"]), "y": plain(rows["share"]),
                     "name": f"{grain} of {start:%-d %b %Y}", "marker": {"color": colour},
                     "customdata": plain(rows["users"]),
                     "hovertemplate": f"{hover('y', RATE, decimals=1)} · %{{customdata:,}}"
                                      " users<extra></extra>"})
    layout = base_layout(320, f"Stickiness: days active per {grain}")
    layout |= {"barmode": "group", "yaxis": {"tickformat": RATE.tick},
               "legend": {"orientation": "h", "x": 0, "y": -0.3},
               "margin": {"l": 48, "r": 24, "t": 40, "b": 80},
               "xaxis": {"title": {"text": f"days active in the {grain}"}, "dtick": 1
                         if grain == "week" else 5}, "hovermode": "x unified"}
    return figure(data, layout)
