"""Calendar periods as integers, the same numbering the SQL uses (see dialect.py).

A period is numbered so that consecutive periods differ by one, which keeps "the previous
period" a subtraction on every backend:
- day: days since 1970-01-01;
- week: ISO weeks (Monday first) since the week of Monday 1969-12-29;
- month: year * 12 + month - 1.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

EPOCH = dt.date(1970, 1, 1)
EPOCH_MONDAY = dt.date(1969, 12, 29)


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @classmethod
    def parse(cls, value: str | Grain) -> Grain:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(g.value for g in cls)
            raise ValueError(f"unknown grain {value!r}: choose one of {allowed}") from None


def period_index(day: dt.date, grain: Grain) -> int:
    if grain is Grain.DAY:
        return (day - EPOCH).days
    if grain is Grain.WEEK:
        return (day - EPOCH_MONDAY).days // 7
    return day.year * 12 + day.month - 1


def period_start(index: int, grain: Grain) -> dt.date:
    if grain is Grain.DAY:
        return EPOCH + dt.timedelta(days=index)
    if grain is Grain.WEEK:
        return EPOCH_MONDAY + dt.timedelta(days=7 * index)
    return dt.date(index // 12, index % 12 + 1, 1)


def period_end(index: int, grain: Grain) -> dt.date:
    """The last day of the period."""
    return period_start(index + 1, grain) - dt.timedelta(days=1)


def first_incomplete_period(data_end: dt.date, grain: Grain, today: dt.date | None = None) -> int:
    """Periods below this index are complete: they end on or before the data's last day, and
    before today (UTC). Data that reaches today holds only part of today: even at day grain,
    today is in progress."""
    today = today or dt.datetime.now(dt.UTC).date()
    last_complete = min(data_end, today - dt.timedelta(days=1))
    return period_index(last_complete + dt.timedelta(days=1), grain)
