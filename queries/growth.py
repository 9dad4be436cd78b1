"""Growth accounting: new, retained, resurrected, churned and active users per period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import DataBounds, data_bounds
from queries.filters import ACTIVITY_COLUMN, SegmentFilter
from queries.periods import Grain
from queries.view import PeriodView, period_params, typed

COLUMNS = [
    "period_start",
    "new_users",
    "retained_users",
    "resurrected_users",
    "churned_users",
    "active_users",
    "retention_rate",
    "quick_ratio",
    "is_complete",
]
COUNT_COLUMNS = COLUMNS[1:6]


class GrowthQuery(PeriodView):
    """Growth accounting for a grain, date range and segment."""


def filterable_columns(backend: Backend) -> list[str]:
    return [ACTIVITY_COLUMN, *schema.segment_columns(backend.event_columns())]


def user_periods_sql(backend: Backend, grain: Grain, segment: SegmentFilter) -> tuple[str, dict]:
    """The per-user period history; unfiltered views read the table materialised at load."""
    if not segment.conditions and getattr(backend, "materialised_user_periods", False):
        table = schema.user_periods_table(grain)
        return f"select user_id, period, prev_period, next_period from {table}", {}
    dialect = backend.dialect
    condition, params = segment.to_sql(dialect, filterable_columns(backend))
    sql = sql_files.render(
        "user_periods",
        events=backend.relation(schema.EVENTS),
        period_of_event_time=dialect.period_of_timestamp("event_time", grain),
        segment_filter=condition,
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


def growth_table(backend: Backend, query: GrowthQuery) -> pd.DataFrame:
    """One row per period in the requested range, columns as in COLUMNS."""
    bounds = data_bounds(backend)
    if bounds.is_empty:
        return pd.DataFrame(columns=COLUMNS)
    sql, params = growth_sql(backend, query, bounds)
    return typed(backend.run(sql, params), COLUMNS, "period_start", counts=COUNT_COLUMNS)


@dataclass(frozen=True)
class Metric:
    column: str
    label: str
    definition: str
    higher_is_better: bool = True
    is_ratio: bool = False


METRICS = (
    Metric("new_users", "New", "Active this period for the first time ever."),
    Metric("retained_users", "Retained", "Active this period and the previous one."),
    Metric(
        "resurrected_users", "Resurrected",
        "Active this period, not in the previous one, but at some time before.",
    ),
    Metric(
        "churned_users", "Churned", "Active in the previous period but not in this one.",
        higher_is_better=False,
    ),
    Metric("active_users", "Active", "New + retained + resurrected users."),
    Metric(
        "quick_ratio", "Quick ratio",
        "(New + resurrected) / churned: above 1 the user base grows. Empty when nobody churned.",
        is_ratio=True,
    ),
    Metric(
        "retention_rate", "Retention rate",
        "Retained / active users of the previous period.", is_ratio=True,
    ),
)


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
        for metric in METRICS
    ]
