"""The shared filter bar: its controls by name, and its values turned into one validated view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from dash import ALL

from layouts import ids
from queries import schema
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
# Lists from the browser are bounded before any work is done on them: a request can carry any
# list, and each value costs SQL parameters and drawing. The page offers far fewer.
MAX_CHOSEN_VALUES = 100


def chosen(values, noun: str, limit: int = MAX_CHOSEN_VALUES) -> list:
    """A multi-select's values as a list, or a ParameterError a person can act on."""
    if values is None:
        return []
    if not isinstance(values, list) or not all(
            isinstance(value, str | int | float) for value in values):
        raise ParameterError(f"{noun} must be a list of values")
    if len(values) > limit:
        raise ParameterError(f"choose at most {limit} {noun}, not {len(values):,}")
    return values


class DateRangeError(ParameterError):
    """The filter bar's dates cannot be used: its message (assets/filters.js) says so, and the
    panels keep the view they show."""


def parse_date(value: str | None, label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise DateRangeError(f"{label} date {value!r} is not a date (YYYY-MM-DD)") from None


def segment_from_values(
    activity_events: list[str] | None, segment_values: list | None, segment_ids: list | None
) -> SegmentFilter:
    mapping = {ACTIVITY_COLUMN: chosen(activity_events, "activity events")}
    mapping |= dropdown_values(segment_ids, segment_values)
    return SegmentFilter.from_mapping(mapping)


def dropdown_values(segment_ids, segment_values) -> dict[str, list]:
    """{column: chosen values} of the segment dropdowns (pattern ids and their values)."""
    dropdown_ids, values = segment_ids or [], segment_values or []
    if not isinstance(dropdown_ids, list) or not isinstance(values, list) \
            or len(dropdown_ids) != len(values):
        raise ParameterError("the segment filters and their values do not match")
    if len(dropdown_ids) > schema.MAX_SEGMENT_COLUMNS:
        raise ParameterError(
            f"at most {schema.MAX_SEGMENT_COLUMNS} segment filters, not {len(dropdown_ids):,}")
    mapping = {}
    for component_id, chosen_values in zip(dropdown_ids, values, strict=True):
        column = component_id.get("column") if isinstance(component_id, dict) else None
        if not isinstance(column, str):
            raise ParameterError("a segment filter names no column")
        mapping[column] = chosen(chosen_values, f"{column} values")
    return mapping


def view_from_filter_bar(values: Mapping) -> GrowthQuery:
    """The view the filter bar shows (values keyed like FILTER_BAR_STATE).

    Raises ParameterError with a message fit for the page."""
    try:
        grain = Grain.parse(values.get("grain") or Grain.WEEK.value)
    except ValueError as error:
        raise ParameterError(str(error)) from None
    start, end = parse_date(values.get("start"), "Start"), parse_date(values.get("end"), "End")
    if start and end and start > end:
        raise DateRangeError(
            f"The start date ({start:%d %b %Y}) is after the end date ({end:%d %b %Y}):"
            " pick a start on or before the end."
        )
    segment = segment_from_values(
        values.get("activity"), values.get("segment_values"), values.get("segment_ids")
    )
    return GrowthQuery(grain, start, end, segment)
