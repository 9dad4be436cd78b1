"""Revenue: the trend per period, a breakdown by segment, and a window against the previous one.

Revenue is the sum of `revenue`; an order is an event with a revenue value; paying users are
distinct users with an order; AOV = revenue / orders; ARPU = revenue / active users.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import data_bounds
from queries.errors import ParameterError
from queries.filters import FilterError, SegmentFilter
from queries.growth import filterable_columns
from queries.periods import Grain, period_start
from queries.retention import event_periods_sql
from queries.view import PeriodView, period_params, typed

COLUMNS = ["period_start", "revenue", "orders", "paying_users", "aov", "is_complete"]
TREND_COLUMNS = [*COLUMNS[:4], "active_users", "aov", "arpu", "is_complete"]
WINDOW_COLUMNS = [
    "start", "end", "revenue", "previous_start", "previous_end", "previous_revenue", "delta",
    "delta_pct", "orders", "previous_orders",
]
OTHER_SEGMENTS = "other"
NO_SEGMENT = "(none)"


class RevenueQuery(PeriodView):
    """Revenue for a grain, date range and segment."""


def revenue_trend(backend: Backend, query: RevenueQuery) -> pd.DataFrame:
    """One row per period in the range, columns as in TREND_COLUMNS."""
    bounds = data_bounds(backend)
    if bounds.is_empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    dialect = backend.dialect
    condition, params = query.segment.to_sql(dialect, filterable_columns(backend))
    active_user_periods, active_params = active_user_periods_sql(backend, query)
    sql = sql_files.render(
        "revenue",
        events=backend.relation(schema.EVENTS),
        segment_filter=condition,
        active_user_periods=active_user_periods,
        period_of_event_time=dialect.period_of_timestamp("event_time", query.grain),
        calendar_series=dialect.integer_series("bounds.first_period", "$last_period", "period"),
        period_start=dialect.period_start("calendar.period", query.grain),
    )
    params |= active_params | period_params(query, bounds)
    frame = backend.run(dialect.bind_parameters(sql), params)
    return typed(
        frame, TREND_COLUMNS, "period_start",
        counts=("orders", "paying_users", "active_users"), numbers=("revenue", "aov", "arpu"),
    )


def active_user_periods_sql(backend: Backend, query: RevenueQuery) -> tuple[str, dict]:
    """One row per user x period with an event; unfiltered views read the table materialised
    at load instead of finding the distinct pairs among all events."""
    if not query.segment.conditions and getattr(backend, "materialised_user_periods", False):
        return f"select user_id, period from {schema.user_periods_table(query.grain)}", {}
    return event_periods_sql(backend, "active_periods", query.grain, query.segment, "active")


def revenue_table(backend: Backend, query: RevenueQuery) -> pd.DataFrame:
    """The export's columns: period_start, revenue, orders, paying_users, aov, is_complete."""
    return revenue_trend(backend, query)[COLUMNS]


def revenue_breakdown(
    backend: Backend, query: RevenueQuery, column: str, top: int = 6
) -> pd.DataFrame:
    """Revenue per period and segment value: the `top` values by revenue, the rest as 'other'."""
    allowed = schema.segment_columns(backend.event_columns())
    if column not in allowed:
        raise FilterError(f"cannot break down by {column!r}: choose one of {', '.join(allowed)}")
    bounds = data_bounds(backend)
    if bounds.is_empty:
        return pd.DataFrame(columns=["period_start", "segment_value", "revenue"])
    dialect = backend.dialect
    condition, params = query.segment.to_sql(dialect, filterable_columns(backend))
    sql = sql_files.render(
        "revenue_breakdown",
        events=backend.relation(schema.EVENTS),
        segment_filter=condition,
        period_of_event_time=dialect.period_of_timestamp("event_time", query.grain),
        breakdown_column=dialect.quote(column),
    )
    periods = period_params(query, bounds)
    params |= {"start_period": periods["start_period"], "end_period": periods["end_period"]}
    frame = backend.run(dialect.bind_parameters(sql), params)
    return group_small_segments(frame, query.grain, top)


def group_small_segments(frame: pd.DataFrame, grain: Grain, top: int) -> pd.DataFrame:
    frame = frame.assign(segment_value=frame["segment_value"].fillna(NO_SEGMENT).astype(str))
    leaders = frame.groupby("segment_value")["revenue"].sum().nlargest(top).index
    frame.loc[~frame["segment_value"].isin(leaders), "segment_value"] = OTHER_SEGMENTS
    grouped = frame.groupby(["period", "segment_value"], as_index=False)["revenue"].sum()
    grouped["period_start"] = [period_start(int(p), grain) for p in grouped["period"]]
    return grouped[["period_start", "segment_value", "revenue"]].sort_values(
        ["period_start", "segment_value"], ignore_index=True
    )


@dataclass(frozen=True)
class WindowComparison:
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    revenue: float
    previous_revenue: float
    orders: int
    previous_orders: int
    paying_users: int
    previous_paying_users: int
    data_end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def delta(self) -> float:
        return self.revenue - self.previous_revenue

    @property
    def delta_pct(self) -> float | None:
        return None if self.previous_revenue == 0 else self.delta / abs(self.previous_revenue)

    @property
    def aov(self) -> float | None:
        return self.revenue / self.orders if self.orders else None

    @property
    def previous_aov(self) -> float | None:
        return self.previous_revenue / self.previous_orders if self.previous_orders else None

    @property
    def days_with_data(self) -> int:
        """Days of the current window up to the data's last day."""
        return max(0, min(self.days, (self.data_end - self.start).days + 1))

    def as_row(self) -> dict:
        return {
            "start": self.start, "end": self.end, "revenue": self.revenue,
            "previous_start": self.previous_start, "previous_end": self.previous_end,
            "previous_revenue": self.previous_revenue, "delta": self.delta,
            "delta_pct": self.delta_pct, "orders": self.orders,
            "previous_orders": self.previous_orders,
        }


def previous_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The n days just before start, for a window of n days."""
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def revenue_window(
    backend: Backend, start: dt.date, end: dt.date, segment: SegmentFilter | None = None
) -> WindowComparison:
    if start > end:
        raise ParameterError(f"start date {start} is after end date {end}")
    segment = segment or SegmentFilter()
    dialect = backend.dialect
    condition, params = segment.to_sql(dialect, filterable_columns(backend))
    sql = sql_files.render(
        "revenue_window", events=backend.relation(schema.EVENTS), segment_filter=condition
    )
    previous_start, previous_end = previous_window(start, end)
    params |= {
        "previous_start_time": midnight(previous_start),
        "start_time": midnight(start),
        "end_time": midnight(end + dt.timedelta(days=1)),
    }
    row = backend.run(dialect.bind_parameters(sql), params).iloc[0]
    bounds = data_bounds(backend)
    return WindowComparison(
        start, end, previous_start, previous_end,
        float(row["revenue"]), float(row["previous_revenue"]),
        int(row["orders"]), int(row["previous_orders"]),
        int(row["paying_users"]), int(row["previous_paying_users"]),
        bounds.last_day or end,
    )


def window_table(comparison: WindowComparison) -> pd.DataFrame:
    return pd.DataFrame([comparison.as_row()], columns=WINDOW_COLUMNS)
