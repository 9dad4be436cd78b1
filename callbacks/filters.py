"""The filter bar: quick date ranges, and an inline message when its values cannot be used."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State

from layouts import ids


def register(app) -> None:
    # In the browser (assets/filters.js): the message follows every change of the dates with
    # no round trip. The panels check the same on the server (view_from_filter_bar) and leave
    # their views alone.
    app.clientside_callback(
        ClientsideFunction("filters", "dateMessage"),
        Output(ids.FILTER_MESSAGE, "children"),
        Input(ids.DATE_RANGE, "start_date"),
        Input(ids.DATE_RANGE, "end_date"),
    )

    # A quick range's dates were computed with the page (layouts/page.py): a click sets them.
    app.clientside_callback(
        ClientsideFunction("filters", "quickRange"),
        Output(ids.DATE_RANGE, "start_date"),
        Output(ids.DATE_RANGE, "end_date"),
        Input(ids.quick_range(ALL), "n_clicks"),
        State(ids.QUICK_RANGE_DATES, "data"),
        prevent_initial_call=True,
    )
