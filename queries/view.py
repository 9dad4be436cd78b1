"""What every per-period view asks for, and what its SQL binds for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from queries.bounds import DataBounds
from queries.errors import check_date_range
from queries.filters import SegmentFilter
from queries.periods import Grain, first_incomplete_period, period_index, period_start


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



def days_through_end(view: PeriodView, bounds: DataBounds) -> tuple[None, dt.date | None]:
    """Every day to the end of the view's last period: a status needs the user's whole
    history before it, and nothing after the periods shown."""
    return None, last_day_of_period(view.end, view.grain)


def days_of_periods(view: PeriodView, bounds: DataBounds) -> tuple[dt.date | None, dt.date | None]:
    """The days of the view's periods, whole: for counts within each period."""
    first = period_start(period_index(view.start, view.grain), view.grain) if view.start else None
    return first, last_day_of_period(view.end, view.grain)


def last_day_of_period(day: dt.date | None, grain: Grain) -> dt.date | None:
    if day is None:
        return None
    return period_start(period_index(day, grain) + 1, grain) - dt.timedelta(days=1)


def previous_range(view: PeriodView, bounds: DataBounds) -> tuple[PeriodView, int] | None:
    """The view over the periods just before its own, as many of them (PostHog's compare),
    and how many periods that is; None when they fall before the data."""
    grain = view.grain
    first = period_index(view.start or bounds.first_day, grain)
    last = period_index(min(view.end or bounds.last_day, bounds.last_day), grain)
    periods = last - first + 1
    end = period_start(first, grain) - dt.timedelta(days=1)
    if periods < 1 or end < bounds.first_day:
        return None
    return replace(view, start=period_start(first - periods, grain), end=end), periods


def shifted_forward(table, periods: int, grain: Grain):
    """A table of earlier periods with each period_start moved `periods` later, to lie over
    the periods it is compared with."""
    moved = [period_start(period_index(day, grain) + periods, grain)
             for day in table["period_start"]]
    return table.assign(previous_start=table["period_start"], period_start=moved)
