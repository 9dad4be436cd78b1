"""How engaged users are: stickiness (per period, how many users were active on 1, 2, ... of
its days, as PostHog's Stickiness and Facebook's L28) and daily DAU, WAU and MAU with their
ratios. Both read distinct user-days: the load-time activity table where there is one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import DataBounds, data_bounds
from queries.errors import ParameterError, check_date_range
from queries.filters import SegmentFilter
from queries.growth import filterable_columns
from queries.periods import Grain, period_index
from queries.query_spec import Kind, QuerySpec, run_query
from queries.view import PeriodView, days_of_periods, period_params

STICKINESS_GRAINS = (Grain.WEEK, Grain.MONTH)
PERIODS = ("first_incomplete_period", "start_period", "end_period")
LONGEST_PERIOD_DAYS = 31
# The days a MAU counts back over, so the days before a range that its first MAU sees.
MAU_DAYS = 28


class StickinessQuery(PeriodView):
    """Stickiness per week or month."""

    def __post_init__(self):
        super().__post_init__()
        if self.grain not in STICKINESS_GRAINS:
            raise ParameterError("stickiness is per week or month: a day has only one day")


def user_days(backend: Backend, segment: SegmentFilter) -> tuple[str, str, str, dict]:
    """(FROM item, its day expression, the filter, its parameters) of the distinct user-days."""
    source, day = schema.activity_source(backend, Grain.DAY)
    condition, params = segment.to_sql(backend.dialect, filterable_columns(backend))
    return source, day, condition, params


def stickiness_sql(backend: Backend, query: StickinessQuery, bounds: DataBounds):
    dialect = backend.dialect
    source, day, condition, params = user_days(backend, query.segment)
    if query.grain is Grain.WEEK:
        period_days = "7"
    else:
        period_days = dialect.days_between(dialect.period_start("period", Grain.MONTH),
                                           dialect.period_start("(period + 1)", Grain.MONTH))
    sql = sql_files.render(
        "stickiness", events=source, day_of_event=day, segment_filter=condition,
        period_of_day=dialect.period_of_timestamp(dialect.period_start("day", Grain.DAY),
                                                  query.grain),
        period_series=dialect.integer_series("$start_period", "$end_period", "period"),
        days_series=dialect.integer_series("1", str(LONGEST_PERIOD_DAYS), "days_active"),
        period_days=period_days,
        period_start=dialect.period_start("cells.period", query.grain),
    )
    periods = period_params(query, bounds)
    return dialect.bind_parameters(sql), params | {name: periods[name] for name in PERIODS}


STICKINESS_SPEC = QuerySpec(
    name="stickiness", view=StickinessQuery, render=stickiness_sql,
    columns={"period_start": Kind.DATE, "days_active": Kind.COUNT, "users": Kind.COUNT,
             "share": Kind.NUMBER, "is_complete": Kind.FLAG},
    parameters=(*PERIODS, "filter_*"), bounds=data_bounds, reads_days=days_of_periods,
)


@dataclass(frozen=True)
class EngagementQuery:
    start: dt.date | None = None
    end: dt.date | None = None
    segment: SegmentFilter = field(default_factory=SegmentFilter)

    def __post_init__(self):
        check_date_range(self.start, self.end)


def engagement_sql(backend: Backend, query: EngagementQuery, bounds: DataBounds):
    dialect = backend.dialect
    source, day, condition, params = user_days(backend, query.segment)
    sql = sql_files.render(
        "engagement", events=source, day_of_event=day, segment_filter=condition,
        # From the data's first day, so the running sums see every span that started before
        # the range.
        day_series=dialect.integer_series("$first_day", "$end_day", "day"),
        day_start=dialect.period_start("running.day", Grain.DAY),
    )
    last = query.end or bounds.last_day
    return dialect.bind_parameters(sql), params | {
        "first_day": period_index(bounds.first_day, Grain.DAY),
        "start_day": period_index(query.start or bounds.first_day, Grain.DAY),
        "end_day": period_index(min(last, bounds.last_day), Grain.DAY),
    }


ENGAGEMENT_SPEC = QuerySpec(
    name="engagement", view=EngagementQuery, render=engagement_sql,
    columns={"day": Kind.DATE, "dau": Kind.COUNT, "wau": Kind.COUNT, "mau": Kind.COUNT,
             "dau_over_wau": Kind.NUMBER, "dau_over_mau": Kind.NUMBER,
             "wau_over_mau": Kind.NUMBER},
    parameters=("first_day", "start_day", "end_day", "filter_*"), bounds=data_bounds,
    reads_days=lambda view, bounds: (
        view.start - dt.timedelta(days=MAU_DAYS) if view.start else None, view.end),
)


def stickiness_table(backend: Backend, query: StickinessQuery) -> pd.DataFrame:
    return run_query(backend, STICKINESS_SPEC, query)


def engagement_table(backend: Backend, query: EngagementQuery) -> pd.DataFrame:
    return run_query(backend, ENGAGEMENT_SPEC, query)
