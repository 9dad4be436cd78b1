"""Growth accounting: new, retained, resurrected, churned and active users per period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import DataBounds, data_bounds
from queries.filters import ACTIVITY_COLUMN, SegmentFilter
from queries.metrics import KPIS, Metric
from queries.periods import Grain
from queries.query_spec import Kind, QuerySpec, run_query
from queries.view import PERIOD_PARAMETERS, PeriodView, days_through_end, period_params

RESULT = {
    "period_start": Kind.DATE,
    "new_users": Kind.COUNT,
    "retained_users": Kind.COUNT,
    "resurrected_users": Kind.COUNT,
    "churned_users": Kind.COUNT,
    "active_users": Kind.COUNT,
    "retention_rate": Kind.NUMBER,
    "quick_ratio": Kind.NUMBER,
    "is_complete": Kind.FLAG,
}
COLUMNS = list(RESULT)
METRICS = KPIS  # the metrics of the KPI cards, as importers knew them (queries/metrics.py)


class GrowthQuery(PeriodView):
    """Growth accounting for a grain, date range and segment."""


def filterable_columns(backend: Backend) -> list[str]:
    return [ACTIVITY_COLUMN, *schema.segment_columns(backend.event_columns())]


def user_periods_sql(backend: Backend, grain: Grain, segment: SegmentFilter) -> tuple[str, dict]:
    """The per-user period history; unfiltered views read the table materialised at load, and
    filtered ones select from the load-time activity table where there is one."""
    if not segment.selects and backend.materialised_user_periods:
        table = backend.relation(schema.user_periods_table(grain))
        return f"select user_id, period, prev_period, next_period from {table}", {}
    condition, params = segment.to_sql(backend.dialect, filterable_columns(backend))
    source, period = schema.activity_source(backend, grain)
    sql = sql_files.render(
        "user_periods", events=source, period_of_event_time=period, segment_filter=condition
    )
    return sql, params


def growth_sql(backend: Backend, query: GrowthQuery, bounds: DataBounds) -> tuple[str, dict]:
    dialect = backend.dialect
    user_periods, params = user_periods_sql(backend, query.grain, query.segment)
    sql = sql_files.render(
        "growth",
        user_periods=user_periods,
        calendar_series=dialect.integer_series(
            "bounds.first_period", "$last_period", "period"
        ),
        period_start=dialect.period_start("period", query.grain),
    )
    return dialect.bind_parameters(sql), params | period_params(query, bounds)


GROWTH_SPEC = QuerySpec(
    name="growth", view=PeriodView, render=growth_sql, columns=RESULT,
    parameters=(*PERIOD_PARAMETERS, "filter_*"), includes=("user_periods",), bounds=data_bounds,
    reads_days=days_through_end,
)


def growth_table(backend: Backend, query: GrowthQuery) -> pd.DataFrame:
    """One row per period in the requested range, columns as in COLUMNS."""
    return run_query(backend, GROWTH_SPEC, query)


@dataclass(frozen=True)
class KpiValue:
    metric: Metric
    period_start: dt.date
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_pct(self) -> float | None:
        if self.change is None or not self.previous:
            return None
        return self.change / abs(self.previous)


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def latest_complete_kpis(table: pd.DataFrame) -> list[KpiValue]:
    """Each metric for the latest complete period, with the period before it for comparison."""
    complete = table[table["is_complete"]]
    if complete.empty:
        return []
    latest = complete.iloc[-1]
    position = table.index.get_loc(complete.index[-1])
    before = table.iloc[position - 1] if position > 0 else None
    return [
        KpiValue(
            metric,
            latest["period_start"],
            _number(latest[metric.column]),
            None if before is None else _number(before[metric.column]),
        )
        for metric in KPIS
    ]
