"""Revenue: the trend per period, a breakdown by segment, and a window against the previous one.

Revenue is the sum of `revenue`; an order is an event with a revenue value; paying users are
distinct users with an order; AOV = revenue / orders; ARPU = revenue / active users.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import DataBounds, data_bounds
from queries.errors import check_date_range
from queries.filters import FilterError, SegmentFilter
from queries.growth import filterable_columns
from queries.periods import Grain, period_start
from queries.query_spec import Kind, QuerySpec, run_query
from queries.retention import event_periods_sql
from queries.view import (
    PERIOD_PARAMETERS,
    PeriodView,
    days_of_periods,
    days_through_end,
    period_params,
)

COLUMNS = ["period_start", "revenue", "orders", "paying_users", "aov", "is_complete"]
TREND = {
    "period_start": Kind.DATE,
    "revenue": Kind.NUMBER,
    "orders": Kind.COUNT,
    "paying_users": Kind.COUNT,
    "active_users": Kind.COUNT,
    "aov": Kind.NUMBER,
    "arpu": Kind.NUMBER,
    "is_complete": Kind.FLAG,
}
TREND_COLUMNS = list(TREND)
WINDOW_COLUMNS = [
    "start", "end", "revenue", "previous_start", "previous_end", "previous_revenue", "delta",
    "delta_pct", "orders", "previous_orders",
]
OTHER_SEGMENTS = "other"
NO_SEGMENT = "(none)"


class RevenueQuery(PeriodView):
    """Revenue for a grain, date range and segment."""


@dataclass(frozen=True)
class BreakdownQuery:
    """Revenue per period by one segment column: the `top` values, the rest as 'other'."""

    revenue: RevenueQuery
    column: str
    top: int = 6


@dataclass(frozen=True)
class WindowQuery:
    """The days [start, end] against as many days just before."""

    start: dt.date
    end: dt.date
    segment: SegmentFilter = field(default_factory=SegmentFilter)

    def __post_init__(self):
        check_date_range(self.start, self.end)


def revenue_sql(backend: Backend, query: RevenueQuery, bounds: DataBounds) -> tuple[str, dict]:
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
    return dialect.bind_parameters(sql), params | active_params | period_params(query, bounds)


REVENUE_SPEC = QuerySpec(
    name="revenue", view=PeriodView, render=revenue_sql, columns=TREND,
    parameters=(*PERIOD_PARAMETERS, "filter_*", "active_*"), includes=("active_periods",),
    bounds=data_bounds, reads_days=days_through_end,
)


def revenue_trend(backend: Backend, query: RevenueQuery) -> pd.DataFrame:
    """One row per period in the range, columns as in TREND_COLUMNS."""
    return run_query(backend, REVENUE_SPEC, query)


def active_user_periods_sql(backend: Backend, query: RevenueQuery) -> tuple[str, dict]:
    """One row per user x period with an event; unfiltered views read the table materialised
    at load instead of finding the distinct pairs among all events."""
    if not query.segment.selects and schema.reads_histories(backend, reads_events_anyway=True):
        table = backend.relation(schema.user_periods_table(query.grain))
        return f"select user_id, period from {table}", {}
    return event_periods_sql(backend, "active_periods", query.grain, query.segment, "active",
                             reads_events_anyway=True)


def revenue_table(backend: Backend, query: RevenueQuery) -> pd.DataFrame:
    """The export's columns: period_start, revenue, orders, paying_users, aov, is_complete."""
    return revenue_trend(backend, query)[COLUMNS]


def check_breakdown_column(backend: Backend, column: str) -> None:
    allowed = schema.segment_columns(backend.event_columns())
    if column not in allowed:
        raise FilterError(f"cannot break down by {column!r}: choose one of {', '.join(allowed)}")


def breakdown_sql(backend: Backend, view: BreakdownQuery, bounds: DataBounds) -> tuple[str, dict]:
    check_breakdown_column(backend, view.column)  # the column becomes an identifier
    query, dialect = view.revenue, backend.dialect
    condition, params = query.segment.to_sql(dialect, filterable_columns(backend))
    sql = sql_files.render(
        "revenue_breakdown",
        events=backend.relation(schema.EVENTS),
        segment_filter=condition,
        period_of_event_time=dialect.period_of_timestamp("event_time", query.grain),
        breakdown_column=dialect.quote(view.column),
    )
    periods = period_params(query, bounds)
    params |= {"start_period": periods["start_period"], "end_period": periods["end_period"]}
    return dialect.bind_parameters(sql), params


def top_segments(frame: pd.DataFrame, view: BreakdownQuery) -> pd.DataFrame:
    return group_small_segments(frame, view.revenue.grain, view.top)


REVENUE_BREAKDOWN_SPEC = QuerySpec(
    name="revenue_breakdown", view=BreakdownQuery, render=breakdown_sql,
    columns={"period_start": Kind.DATE, "segment_value": Kind.TEXT, "revenue": Kind.NUMBER},
    parameters=("start_period", "end_period", "filter_*"), bounds=data_bounds,
    shape=top_segments, reads_days=lambda view, bounds: days_of_periods(view.revenue, bounds),
)


def revenue_breakdown(
    backend: Backend, query: RevenueQuery, column: str, top: int = 6
) -> pd.DataFrame:
    """Revenue per period and segment value: the `top` values by revenue, the rest as 'other'."""
    check_breakdown_column(backend, column)  # an unknown column is an error even without data
    return run_query(backend, REVENUE_BREAKDOWN_SPEC, BreakdownQuery(query, column, top))


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
    data_start: dt.date | None = None

    @property
    def previous_has_data(self) -> bool:
        """Whether the previous window reaches into the data: before its first day there is
        nothing to compare with, and a change "from 0" would be growth nobody had."""
        return self.data_start is None or self.previous_end >= self.data_start

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def delta(self) -> float:
        return self.revenue - self.previous_revenue

    @property
    def delta_pct(self) -> float | None:
        """The change in percent, as exec-kpi's check writes it:
        SAFE_DIVIDE(current - previous, previous) * 100."""
        return None if self.previous_revenue == 0 else self.delta / self.previous_revenue * 100

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


def window_sql(backend: Backend, view: WindowQuery, bounds: None) -> tuple[str, dict]:
    dialect = backend.dialect
    condition, params = view.segment.to_sql(dialect, filterable_columns(backend))
    sql = sql_files.render(
        "revenue_window", events=backend.relation(schema.EVENTS), segment_filter=condition
    )
    previous_start, _ = previous_window(view.start, view.end)
    params |= {
        "previous_start_time": midnight(previous_start),
        "start_time": midnight(view.start),
        "end_time": midnight(view.end + dt.timedelta(days=1)),
    }
    return dialect.bind_parameters(sql), params


REVENUE_WINDOW_SPEC = QuerySpec(
    name="revenue_window", view=WindowQuery, render=window_sql,
    columns={
        "revenue": Kind.NUMBER, "previous_revenue": Kind.NUMBER, "orders": Kind.COUNT,
        "previous_orders": Kind.COUNT, "paying_users": Kind.COUNT,
        "previous_paying_users": Kind.COUNT,
    },
    parameters=("previous_start_time", "start_time", "end_time", "filter_*"),
    reads_days=lambda view, bounds: (previous_window(view.start, view.end)[0], view.end),
)


def revenue_window(
    backend: Backend, start: dt.date, end: dt.date, segment: SegmentFilter | None = None
) -> WindowComparison:
    view = WindowQuery(start, end, segment or SegmentFilter())
    row = run_query(backend, REVENUE_WINDOW_SPEC, view).iloc[0]
    bounds = data_bounds(backend)
    previous_start, previous_end = previous_window(start, end)
    return WindowComparison(
        start, end, previous_start, previous_end,
        float(row["revenue"]), float(row["previous_revenue"]),
        int(row["orders"]), int(row["previous_orders"]),
        int(row["paying_users"]), int(row["previous_paying_users"]),
        bounds.last_day or end, bounds.first_day,
    )


def window_table(comparison: WindowComparison) -> pd.DataFrame:
    return pd.DataFrame([comparison.as_row()], columns=WINDOW_COLUMNS)
