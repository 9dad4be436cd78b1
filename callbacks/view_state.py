"""Turns the shared filter bar's values into a validated query, or a message for the user."""

from __future__ import annotations

import datetime as dt

from dash import ALL, ClientsideFunction, Input, Output, State

from layouts import ids
from queries.errors import ParameterError
from queries.filters import ACTIVITY_COLUMN, SegmentFilter
from queries.growth import GrowthQuery
from queries.periods import Grain


def filter_bar_inputs() -> list:
    """The filter bar's values, in the order growth_query takes them."""
    return [
        Input(ids.GRAIN, "value"),
        Input(ids.DATE_RANGE, "start_date"),
        Input(ids.DATE_RANGE, "end_date"),
        Input(ids.ACTIVITY_EVENTS, "value"),
        Input(ids.segment_filter(ALL), "value"),
        State(ids.segment_filter(ALL), "id"),
    ]


def drawn_on_request(app, request: dict, controls: list) -> list:
    """The dependencies of a panel callback that draws only when the browser asks.

    A clientside gate (assets/panels.js) watches the panel's controls and the tabs, and sets
    the panel's request store when its tab is open and its view changed: no request for hidden
    panels, none for a tab opened again unchanged. The panel callback takes that store as its
    Input (use prevent_initial_call=True), then the controls' values as States, in order.
    """
    app.clientside_callback(
        ClientsideFunction("panels", "request"),
        Output(request, "data"),
        # All as Inputs: a clientside function gets its Inputs' values before its States'.
        *[Input(c.component_id, c.component_property) for c in controls],
        Input(ids.VIEW_TABS, "active_tab"),
        State(request, "data"),
    )
    return [Input(request, "data"),
            *[State(c.component_id, c.component_property) for c in controls]]


def parse_date(value: str | None, label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ParameterError(f"{label} date {value!r} is not a date (YYYY-MM-DD)") from None


def segment_from_inputs(
    activity_events: list[str] | None, segment_values: list, segment_ids: list[dict]
) -> SegmentFilter:
    mapping = {ACTIVITY_COLUMN: activity_events or []}
    for component_id, values in zip(segment_ids, segment_values, strict=True):
        mapping[component_id["column"]] = values or []
    return SegmentFilter.from_mapping(mapping)


def growth_query(
    grain: str | None,
    start_date: str | None,
    end_date: str | None,
    activity_events: list[str] | None,
    segment_values: list,
    segment_ids: list[dict],
) -> GrowthQuery:
    """Raises ParameterError with a message fit for the page."""
    try:
        parsed_grain = Grain.parse(grain or Grain.WEEK.value)
    except ValueError as error:
        raise ParameterError(str(error)) from None
    start, end = parse_date(start_date, "Start"), parse_date(end_date, "End")
    if start and end and start > end:
        raise ParameterError(
            f"The start date ({start:%d %b %Y}) is after the end date ({end:%d %b %Y}):"
            " pick a start on or before the end."
        )
    return GrowthQuery(
        parsed_grain, start, end, segment_from_inputs(activity_events, segment_values, segment_ids)
    )
