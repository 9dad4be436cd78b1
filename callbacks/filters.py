"""The filter bar: quick date ranges, and an inline message when its values cannot be used."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update

from callbacks.view_state import FILTER_BAR, FILTER_BAR_IDS, view_from_filter_bar
from layouts import ids
from queries.errors import ParameterError


def register(app) -> None:
    @app.callback(
        output=Output(ids.FILTER_MESSAGE, "children"),
        inputs={"values": {name: Input(*dependency) for name, dependency in FILTER_BAR.items()}},
        state={"dropdowns": {name: State(*dependency)
                             for name, dependency in FILTER_BAR_IDS.items()}},
    )
    def show_filter_message(values, dropdowns):
        try:
            view_from_filter_bar(values | dropdowns)
        except ParameterError as error:
            return dbc.Alert(str(error), color="warning", className="py-2 mb-0")
        return None

    @app.callback(
        Output(ids.DATE_RANGE, "start_date"),
        Output(ids.DATE_RANGE, "end_date"),
        Input(ids.quick_range(ALL), "n_clicks"),
        State(ids.DATE_RANGE, "min_date_allowed"),
        State(ids.DATE_RANGE, "max_date_allowed"),
        prevent_initial_call=True,
    )
    def apply_quick_range(clicks, first_day, last_day):
        if not ctx.triggered_id or not any(clicks) or not last_day:
            return no_update, no_update
        return quick_range_dates(ctx.triggered_id["days"], first_day, last_day)


def quick_range_dates(days: int, first_day: str, last_day: str) -> tuple[str, str]:
    """The last `days` days of data (all of it for 0), never before the first day."""
    first = dt.date.fromisoformat(str(first_day)[:10])
    last = dt.date.fromisoformat(str(last_day)[:10])
    start = first if days == 0 else max(first, last - dt.timedelta(days=days - 1))
    return start.isoformat(), last.isoformat()
