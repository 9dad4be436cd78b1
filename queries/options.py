"""What the filter bar offers: the data's date span, event types and segment values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import data_bounds
from queries.filters import ACTIVITY_COLUMN
from queries.query_spec import Kind, QuerySpec, run_query

MAX_VALUES = 200


@dataclass(frozen=True)
class FilterOptions:
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    events: int = 0
    event_types: list[str] = field(default_factory=list)
    segments: dict[str, list[str]] = field(default_factory=dict)


def segment_values_sql(backend: Backend, column: str, bounds: None) -> tuple[str, dict]:
    allowed = [ACTIVITY_COLUMN, *schema.segment_columns(backend.event_columns())]
    if column not in allowed:
        raise ValueError(f"{column!r} is not a segment column")
    sql = sql_files.render(
        "segment_values",
        column=backend.dialect.quote(column),
        events=backend.relation(schema.EVENTS),
    )
    return backend.dialect.bind_parameters(sql), {"max_values": MAX_VALUES}


# The view is the column's name.
SEGMENT_VALUES_SPEC = QuerySpec(
    name="segment_values", view=str, render=segment_values_sql,
    columns={"value": Kind.TEXT, "events": Kind.COUNT}, parameters=("max_values",),
)


def column_values(backend: Backend, column: str) -> list[str]:
    return [str(value) for value in run_query(backend, SEGMENT_VALUES_SPEC, column)["value"]]


def filter_options(backend: Backend) -> FilterOptions:
    bounds = data_bounds(backend)
    if bounds.is_empty:
        return FilterOptions()
    segments = {
        column: column_values(backend, column)
        for column in schema.segment_columns(backend.event_columns())
    }
    return FilterOptions(
        bounds.first_day, bounds.last_day, bounds.events,
        column_values(backend, ACTIVITY_COLUMN), segments,
    )
