"""What every per-period view asks for, and what its SQL binds for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from queries.bounds import DataBounds
from queries.errors import check_date_range
from queries.filters import SegmentFilter
from queries.periods import Grain, first_incomplete_period, period_index


@dataclass(frozen=True)
class PeriodView:
    grain: Grain = Grain.WEEK
    start: dt.date | None = None
    end: dt.date | None = None
    segment: SegmentFilter = field(default_factory=SegmentFilter)

    def __post_init__(self):
        check_date_range(self.start, self.end)


def period_params(view: PeriodView, bounds: DataBounds) -> dict:
    """The calendar's last period, the first incomplete one, and the periods in the range."""
    return {
        "last_period": period_index(bounds.last_day, view.grain),
        "first_incomplete_period": first_incomplete_period(bounds.last_day, view.grain),
        "start_period": period_index(view.start or bounds.first_day, view.grain),
        "end_period": period_index(view.end or bounds.last_day, view.grain),
    }


def typed(
    frame: pd.DataFrame,
    columns: list[str],
    date_column: str,
    counts: Iterable[str] = (),
    numbers: Iterable[str] = (),
) -> pd.DataFrame:
    """A query's rows with Python dates, int64 counts, float numbers and a bool is_complete."""
    frame[date_column] = pd.to_datetime(frame[date_column]).dt.date
    for column in counts:
        frame[column] = frame[column].astype("int64")
    for column in numbers:
        frame[column] = frame[column].astype(float)
    frame["is_complete"] = frame["is_complete"].astype(bool)
    return frame[columns].reset_index(drop=True)
