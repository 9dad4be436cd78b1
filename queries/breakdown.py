"""Breakdowns of growth accounting and retention by one segment column: one table per value
(the most frequent values, the rest together as "other"), each computed as the filter on that
value computes it, so statuses and cohorts are within the segment. A user with events of two
values is in both segments, as under either filter."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from queries import schema
from queries.backends import Backend
from queries.errors import ParameterError
from queries.growth import GrowthQuery, growth_table
from queries.options import column_values
from queries.retention import RetentionQuery, retention_table

TOP_VALUES = 5
OTHER = "other"


def checked_column(backend: Backend, column: str) -> str:
    allowed = schema.segment_columns(backend.event_columns())
    if column not in allowed:
        raise ParameterError(f"cannot break down by {column!r}: segment columns are"
                             f" {', '.join(allowed) or 'none'}")
    return column


def segments(backend: Backend, query, column: str, top: int = TOP_VALUES) -> list[tuple]:
    """(label, query) per segment: the top values by events, then "other" when more exist.
    Where the view already filters the column, its chosen values are the segments."""
    checked_column(backend, column)
    chosen = query.segment.as_dict().get(column)
    values = chosen or column_values(backend, column)
    leaders = values[:top]
    parts = [(value, replace(query, segment=query.segment.with_values(column, [value])))
             for value in leaders]
    if len(values) > top and not chosen:
        parts.append((OTHER, replace(query, segment=query.segment.without_values(column,
                                                                                 leaders))))
    return parts


def broken_down(backend: Backend, query, column: str, table) -> pd.DataFrame:
    frames = [table(backend, part).assign(segment=label)
              for label, part in segments(backend, query, column)]
    if not frames:
        return table(backend, query).iloc[0:0].assign(segment=None)
    frame = pd.concat(frames, ignore_index=True)
    return frame[["segment", *[c for c in frame.columns if c != "segment"]]]


def growth_breakdown(backend: Backend, query: GrowthQuery, column: str) -> pd.DataFrame:
    return broken_down(backend, query, column, growth_table)


def retention_breakdown(backend: Backend, query: RetentionQuery, column: str) -> pd.DataFrame:
    return broken_down(backend, query, column, retention_table)
