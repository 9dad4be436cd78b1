"""What a query is (its SQL file, view, parameters, result schema), and the one function that
runs any of them. Each insight module declares its specs; queries/registry.py lists them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

from queries.backends import Backend


class Kind(StrEnum):
    """A result column's type, the same whichever backend returned it."""

    DATE = "date"  # a Python date (DuckDB returns Timestamps, BigQuery dates)
    COUNT = "count"  # int64, never missing
    NUMBER = "number"  # float, NaN where undefined
    FLAG = "flag"  # bool
    TEXT = "text"  # as returned: str, or None where missing


DTYPES = {Kind.DATE: object, Kind.COUNT: "int64", Kind.NUMBER: float, Kind.FLAG: bool,
          Kind.TEXT: object}

# (backend, view, bounds) -> (SQL as handed to Backend.run, its bound parameters)
Render = Callable[[Backend, Any, Any], tuple[str, dict]]
# (view, bounds) -> the first and last day of events a query needs (None: open at that end).
DayWindow = Callable[[Any, Any], tuple[dt.date | None, dt.date | None]]
# The parameters a source that prunes by day binds them to (GA4's daily tables).
DAY_WINDOW = ("events_first_day", "events_last_day")


@dataclass(frozen=True)
class QuerySpec:
    name: str  # the registry key and the SQL file, queries/sql/<name>.sql
    view: type | None  # what a caller describes the view with; None: the query takes none
    render: Render
    columns: dict[str, Kind]  # the result, in order
    # The names the SQL binds; `filter_*` stands for a numbered family (filter_0, filter_1).
    parameters: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()  # SQL files rendered into this one
    # Where the data's span comes from, for queries whose calendar it fixes; without data such
    # a query returns its empty frame instead of running.
    bounds: Callable[[Backend], Any] | None = None
    # SQL rows -> the declared columns, for results a query shapes after the SQL.
    shape: Callable[[pd.DataFrame, Any], pd.DataFrame] | None = None
    # The days of events the query reads, where that is fewer than all of them; a source that
    # prunes by day then scans only those.
    reads_days: DayWindow | None = None

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    def empty_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {name: pd.Series(dtype=DTYPES[kind]) for name, kind in self.columns.items()}
        )

    def typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The declared columns in order, each converted to its kind."""
        for name, kind in self.columns.items():
            frame[name] = converted(frame[name], kind)
        return frame[self.column_names].reset_index(drop=True)


def converted(values: pd.Series, kind: Kind) -> pd.Series:
    if kind is Kind.DATE:
        return pd.to_datetime(values).dt.date
    if kind is Kind.TEXT:
        return values
    return values.astype(DTYPES[kind])


def run_query(backend: Backend, spec: QuerySpec, view=None) -> pd.DataFrame:
    """The spec's rows for a view, typed as it declares; its empty frame when there is no data."""
    bounds = None
    if spec.bounds is not None:
        bounds = spec.bounds(backend)
        if bounds.is_empty:
            return spec.empty_frame()
    sql, params = spec.render(backend, view, bounds)
    if spec.reads_days is not None and DAY_WINDOW[0] in sql:
        params = params | dict(zip(DAY_WINDOW, spec.reads_days(view, bounds), strict=True))
    frame = backend.run(sql, params)
    if spec.shape is not None:
        frame = spec.shape(frame, view)
    return spec.typed(frame)
