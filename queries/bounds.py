"""The span of the whole data set, which fixes the calendar and the incomplete period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend


@dataclass(frozen=True)
class DataBounds:
    first_day: dt.date | None
    last_day: dt.date | None
    events: int

    @property
    def is_empty(self) -> bool:
        return self.events == 0


def data_bounds(backend: Backend) -> DataBounds:
    sql = sql_files.render("data_bounds", events=backend.relation(schema.EVENTS))
    row = backend.run(sql, {}).iloc[0]
    if not row["events"]:
        return DataBounds(None, None, 0)
    first_day, last_day = pd.Timestamp(row["first_day"]), pd.Timestamp(row["last_day"])
    return DataBounds(first_day.date(), last_day.date(), int(row["events"]))
