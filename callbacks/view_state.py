"""The shared filter bar: its controls by name, and its values turned into one validated view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from dash import ALL

from layouts import ids
from queries.errors import ParameterError
from queries.filters import ACTIVITY_COLUMN, SegmentFilter
from queries.growth import GrowthQuery
from queries.periods import Grain

# (component id, property) of each filter-bar value, by the name the parser reads.
FILTER_BAR = {
    "grain": (ids.GRAIN, "value"),
    "start": (ids.DATE_RANGE, "start_date"),
    "end": (ids.DATE_RANGE, "end_date"),
    "activity": (ids.ACTIVITY_EVENTS, "value"),
    "segment_values": (ids.segment_filter(ALL), "value"),
}
# Read with the values but never a reason to redraw: which column each segment dropdown is for.
FILTER_BAR_IDS = {"segment_ids": (ids.segment_filter(ALL), "id")}
FILTER_BAR_STATE = FILTER_BAR | FILTER_BAR_IDS


def parse_date(value: str | None, label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ParameterError(f"{label} date {value!r} is not a date (YYYY-MM-DD)") from None


def segment_from_values(
    activity_events: list[str] | None, segment_values: list | None, segment_ids: list | None
) -> SegmentFilter:
    mapping = {ACTIVITY_COLUMN: activity_events or []}
    for component_id, values in zip(segment_ids or [], segment_values or [], strict=True):
        mapping[component_id["column"]] = values or []
    return SegmentFilter.from_mapping(mapping)


def view_from_filter_bar(values: Mapping) -> GrowthQuery:
    """The view the filter bar shows (values keyed like FILTER_BAR_STATE).

    Raises ParameterError with a message fit for the page."""
    try:
        grain = Grain.parse(values.get("grain") or Grain.WEEK.value)
    except ValueError as error:
        raise ParameterError(str(error)) from None
    start, end = parse_date(values.get("start"), "Start"), parse_date(values.get("end"), "End")
    if start and end and start > end:
        raise ParameterError(
            f"The start date ({start:%d %b %Y}) is after the end date ({end:%d %b %Y}):"
            " pick a start on or before the end."
        )
    segment = segment_from_values(
        values.get("activity"), values.get("segment_values"), values.get("segment_ids")
    )
    return GrowthQuery(grain, start, end, segment)
