"""The filter bar: an inline message when its values cannot be used."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Output

from callbacks.view_state import filter_bar_inputs, growth_query
from layouts import ids
from queries.errors import ParameterError


def register(app, backend) -> None:
    @app.callback(
        Output(ids.FILTER_MESSAGE, "children"),
        *filter_bar_inputs(),
    )
    def show_filter_message(grain, start, end, activity, segment_values, segment_ids):
        try:
            growth_query(grain, start, end, activity, segment_values, segment_ids)
        except ParameterError as error:
            return dbc.Alert(str(error), color="warning", className="py-2 mb-0")
        return None
