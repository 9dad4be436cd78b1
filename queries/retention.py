"""Retention triangles: cohort (first active period) x periods since, per day, week or month."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import DataBounds, data_bounds
from queries.errors import ParameterError
from queries.filters import ACTIVITY_COLUMN, SegmentFilter
from queries.growth import filterable_columns
from queries.periods import Grain, first_incomplete_period, period_index, period_start
from queries.query_spec import Kind, QuerySpec, run_query
from queries.view import PeriodView

RESULT = {
    "cohort_start": Kind.DATE,
    "cohort_size": Kind.COUNT,
    "period_index": Kind.COUNT,
    "retained_users": Kind.COUNT,
    "retention_rate": Kind.NUMBER,
    "is_complete": Kind.FLAG,
}
COLUMNS = list(RESULT)


class RetentionMode(StrEnum):
    EXACT = "exact"  # active in period cohort + k
    UNBOUNDED = "unbounded"  # active in period cohort + k or any later one

    @classmethod
    def parse(cls, value: str | RetentionMode) -> RetentionMode:
        try:
            return cls(value)
        except ValueError:
            raise ParameterError(f"unknown mode {value!r}: choose exact or unbounded") from None


# (which per-index counts to join, how they become retained users): fixed SQL, never input.
MODE_SQL = {
    RetentionMode.EXACT: ("exact_counts", "users_at_index"),
    RetentionMode.UNBOUNDED: (
        "unbounded_counts",
        "sum(users_at_index) over (partition by cohort order by period_index desc)",
    ),
}


@dataclass(frozen=True)
class RetentionQuery(PeriodView):
    mode: RetentionMode = RetentionMode.EXACT
    # Event types that put a user in a cohort / count as returning; None means any event.
    start_events: tuple[str, ...] | None = None
    return_events: tuple[str, ...] | None = None

    @property
    def uses_default_events(self) -> bool:
        return not self.segment.selects and not self.start_events and not self.return_events


def cohort_range(query: RetentionQuery, bounds: DataBounds) -> tuple[int, int]:
    """Cohorts whose period starts inside [start, end]."""
    grain = query.grain
    first = period_index(query.start or bounds.first_day, grain)
    if query.start and period_start(first, grain) < query.start:
        first += 1
    return first, period_index(query.end or bounds.last_day, grain)


def event_periods_sql(
    backend: Backend, template: str, grain: Grain, segment: SegmentFilter, prefix: str,
    reads_events_anyway: bool = False,
) -> tuple[str, dict]:
    condition, params = segment.to_sql(backend.dialect, filterable_columns(backend), prefix)
    source, period = schema.activity_source(backend, grain, reads_events_anyway)
    sql = sql_files.render(template, events=source, period_of_event_time=period,
                           event_filter=condition)
    return sql, params


def member_sql(backend: Backend, query: RetentionQuery,
               reads_events_anyway: bool = False) -> tuple[str, str, dict]:
    """The cohort members and their active periods; the default reads the load-time tables
    (schema.reads_histories)."""
    if query.uses_default_events and schema.reads_histories(backend, reads_events_anyway):
        table = backend.relation(schema.user_periods_table(query.grain))
        cohorts = f"select user_id, period as cohort from {table} where prev_period is null"
        return cohorts, f"select user_id, period from {table}", {}
    cohort_filter = query.segment.with_values(ACTIVITY_COLUMN, query.start_events)
    return_filter = query.segment.with_values(ACTIVITY_COLUMN, query.return_events)
    cohorts, cohort_params = event_periods_sql(
        backend, "first_periods", query.grain, cohort_filter, "cohort_filter",
        reads_events_anyway)
    active, active_params = event_periods_sql(
        backend, "active_periods", query.grain, return_filter, "return_filter",
        reads_events_anyway)
    return cohorts, active, cohort_params | active_params


def retention_sql(backend: Backend, query: RetentionQuery, bounds: DataBounds):
    dialect = backend.dialect
    cohorts, active, params = member_sql(backend, query)
    counts, retained_users = MODE_SQL[query.mode]
    sql = sql_files.render(
        "retention",
        cohort_members=cohorts,
        active_periods=active,
        index_series=dialect.integer_series("0", "$last_period - cohorts.cohort", "period_index"),
        counts=counts,
        retained_users=retained_users,
        cohort_start=dialect.period_start("cohort", query.grain),
    )
    first_cohort, last_cohort = cohort_range(query, bounds)
    params |= {
        "first_cohort": first_cohort,
        "last_cohort": last_cohort,
        "last_period": period_index(bounds.last_day, query.grain),
        "first_incomplete_period": first_incomplete_period(bounds.last_day, query.grain),
    }
    return dialect.bind_parameters(sql), params


RETENTION_SPEC = QuerySpec(
    name="retention", view=RetentionQuery, render=retention_sql, columns=RESULT,
    parameters=(
        "first_cohort", "last_cohort", "last_period", "first_incomplete_period",
        "cohort_filter_*", "return_filter_*",
    ),
    includes=("first_periods", "active_periods"), bounds=data_bounds,
)


def retention_table(backend: Backend, query: RetentionQuery) -> pd.DataFrame:
    """One row per cohort and period index (a triangle), columns as in COLUMNS."""
    return run_query(backend, RETENTION_SPEC, query)


def weighted_average(table: pd.DataFrame) -> pd.DataFrame:
    """Per period index: retained over cohort sizes, summed over the cohorts whose cell at that
    index is complete (an unfinished period would drag the average down)."""
    complete = table[table["is_complete"]]
    sums = complete.groupby("period_index")[["retained_users", "cohort_size"]].sum()
    sums = sums.rename(columns={"cohort_size": "eligible_users"})
    sums["retention_rate"] = sums["retained_users"] / sums["eligible_users"]
    sums["cohorts"] = complete.groupby("period_index").size()
    return sums.reset_index()


def wide(table: pd.DataFrame, value: str = "retention_rate") -> pd.DataFrame:
    """Cohorts as rows and period indexes as columns, for heatmaps and grids."""
    pivot = table.pivot(index="cohort_start", columns="period_index", values=value)
    sizes = table.groupby("cohort_start")["cohort_size"].first()
    return pivot.assign(cohort_size=sizes)[["cohort_size", *pivot.columns]]
