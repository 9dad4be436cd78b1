"""Revenue cohorts: what each cohort brought per period since it joined, its cumulative
revenue per member (the LTV curve) and its revenue retention (revenue at k over revenue at
k = 0). Cohorts are as in retention: each user's first active period over their whole history,
under the view's segment filter."""

from __future__ import annotations

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import DataBounds, data_bounds
from queries.growth import filterable_columns
from queries.periods import first_incomplete_period, period_index
from queries.query_spec import Kind, QuerySpec, run_query
from queries.retention import RetentionQuery, cohort_range, member_sql
from queries.view import PeriodView

COLUMNS = {"cohort_start": Kind.DATE, "cohort_size": Kind.COUNT, "period_index": Kind.COUNT,
           "revenue": Kind.NUMBER, "cumulative_revenue_per_user": Kind.NUMBER,
           "revenue_retention": Kind.NUMBER, "is_complete": Kind.FLAG}


class LtvQuery(PeriodView):
    """Revenue cohorts for a grain, date range (of cohorts) and segment."""


def ltv_sql(backend: Backend, query: LtvQuery, bounds: DataBounds) -> tuple[str, dict]:
    dialect = backend.dialect
    retention = RetentionQuery(query.grain, query.start, query.end, query.segment)
    cohorts, _active, member_params = member_sql(backend, retention, reads_events_anyway=True)
    # Revenue is read from the events themselves (the activity tables have none).
    params = {name: value for name, value in member_params.items()
              if name.startswith("cohort_filter")}
    condition, filter_params = query.segment.to_sql(
        dialect, filterable_columns(backend), "revenue_filter")
    sql = sql_files.render(
        "ltv", cohort_members=cohorts, events=backend.relation(schema.EVENTS),
        period_of_event_time=dialect.period_of_timestamp("event_time", query.grain),
        segment_filter=condition,
        index_series=dialect.integer_series("0", "$last_period - cohorts.cohort", "period_index"),
        cohort_start=dialect.period_start("cohort", query.grain),
    )
    first_cohort, last_cohort = cohort_range(retention, bounds)
    params |= filter_params | {
        "first_cohort": first_cohort, "last_cohort": last_cohort,
        "last_period": period_index(bounds.last_day, query.grain),
        "first_incomplete_period": first_incomplete_period(bounds.last_day, query.grain),
    }
    return dialect.bind_parameters(sql), params


LTV_SPEC = QuerySpec(
    name="ltv", view=LtvQuery, render=ltv_sql, columns=COLUMNS,
    parameters=("first_cohort", "last_cohort", "last_period", "first_incomplete_period",
                "cohort_filter_*", "revenue_filter_*"),
    includes=("first_periods",), bounds=data_bounds,
)


def ltv_table(backend: Backend, query: LtvQuery) -> pd.DataFrame:
    """One row per cohort and period index, columns as in COLUMNS."""
    return run_query(backend, LTV_SPEC, query)
