"""Conversion funnel: ordered steps within a window, overall and per segment."""

from __future__ import annotations

from dash import Input, Output, no_update

from callbacks.buttons import export_grid_on_click
from callbacks.guard import guarded
from callbacks.view_state import drawn_on_request, filter_bar_inputs, growth_query
from layouts import ids, revenue_charts
from layouts.charts import empty_figure
from layouts.components import empty_state
from queries.errors import ParameterError
from queries.filters import ACTIVITY_COLUMN
from queries.funnel import FunnelQuery, funnel_breakdown, funnel_table


def funnel_query(filter_values, steps, window_days, breakdown) -> FunnelQuery:
    view = growth_query(*filter_values)
    try:
        window = float(window_days)
    except (TypeError, ValueError):
        raise ParameterError("the conversion window must be a number of days") from None
    # The funnel's steps say which event types matter; the activity filter does not apply.
    segment = view.segment.with_values(ACTIVITY_COLUMN, [])
    return FunnelQuery(tuple(steps or ()), window, view.start, view.end, segment, breakdown)


def rows(table) -> list[dict]:
    return table.astype(object).where(table.notna(), None).to_dict("records")


def render(backend, query: FunnelQuery):
    overall = funnel_table(backend, query)
    by_segment = funnel_breakdown(backend, query) if query.breakdown else None
    table = overall.assign(segment_value="all")
    grid = rows(table) + (rows(by_segment) if by_segment is not None else [])
    return (
        None,
        revenue_charts.funnel_figure(overall),
        revenue_charts.funnel_breakdown_figure(by_segment if by_segment is not None else table),
        grid,
    )


def failure(card, message: str):
    return card, empty_figure(message), empty_figure(message), []


def register(app, backend, config) -> None:
    @app.callback(
        Output(ids.FUNNEL_STATUS, "children"),
        Output(ids.FUNNEL_CHART, "figure"),
        Output(ids.FUNNEL_BREAKDOWN_CHART, "figure"),
        Output(ids.FUNNEL_GRID, "rowData"),
        *drawn_on_request(app, ids.FUNNEL_REQUEST, [
            *filter_bar_inputs(),
            Input(ids.FUNNEL_STEPS, "value"),
            Input(ids.FUNNEL_WINDOW_DAYS, "value"),
            Input(ids.FUNNEL_BREAKDOWN, "value"),
        ]),
        prevent_initial_call=True,
    )
    def update_funnel(_request, grain, start, end, activity, segment_values, segment_ids,
                      steps, window_days, breakdown):
        filter_values = (grain, start, end, activity, segment_values, segment_ids)
        try:
            query = funnel_query(filter_values, steps, window_days, breakdown)
        except ParameterError as error:
            if "start date" in str(error):
                return (no_update,) * 4  # the filter bar explains what to fix
            message = str(error)
            return empty_state(message), empty_figure(message), empty_figure(message), []
        return guarded("The funnel", lambda: render(backend, query), failure)

    export_grid_on_click(app, ids.FUNNEL_EXPORT, ids.FUNNEL_GRID)
