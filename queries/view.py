"""What every per-period view asks for, and what its SQL binds for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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


PERIOD_PARAMETERS = ("last_period", "first_incomplete_period", "start_period", "end_period")


def period_params(view: PeriodView, bounds: DataBounds) -> dict:
    """The calendar's last period, the first incomplete one, and the periods in the range."""
    return {
        "last_period": period_index(bounds.last_day, view.grain),
        "first_incomplete_period": first_incomplete_period(bounds.last_day, view.grain),
        "start_period": period_index(view.start or bounds.first_day, view.grain),
        "end_period": period_index(view.end or bounds.last_day, view.grain),
    }

