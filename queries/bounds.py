"""The span of the whole data set, which fixes the calendar and the incomplete period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from queries import schema, sql_files
from queries.backends import Backend
from queries.query_spec import Kind, QuerySpec, run_query


@dataclass(frozen=True)
class DataBounds:
    first_day: dt.date | None
    last_day: dt.date | None
    events: int

    @property
    def is_empty(self) -> bool:
        return self.events == 0


def bounds_sql(backend: Backend, view: None, bounds: None) -> tuple[str, dict]:
    return sql_files.render("data_bounds", events=backend.relation(schema.EVENTS)), {}


DATA_BOUNDS_SPEC = QuerySpec(
    name="data_bounds", view=None, render=bounds_sql,
    columns={"first_day": Kind.DATE, "last_day": Kind.DATE, "events": Kind.COUNT},
)


def data_bounds(backend: Backend) -> DataBounds:
    row = run_query(backend, DATA_BOUNDS_SPEC).iloc[0]
    if not row["events"]:
        return DataBounds(None, None, 0)
    return DataBounds(row["first_day"], row["last_day"], int(row["events"]))
