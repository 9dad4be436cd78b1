"""The per-grain tables views read instead of every event: user histories (user_periods.sql)
and activity by segment values. DuckDB writes them with every load (app/storage.py); BigQuery
with `python -m app build` (queries/bigquery_build.py)."""

from __future__ import annotations

from queries import schema
from queries.growth import filterable_columns
from queries.periods import Grain


def activity_select_list(backend, grain: Grain) -> str:
    """The columns of the distinct user x period x event type x segment values, over events:
    what a segment filter selects activity by."""
    dialect = backend.dialect
    columns = ", ".join(dialect.quote(column) for column in filterable_columns(backend))
    return f"user_id, {dialect.period_of_timestamp('event_time', grain)} as period, {columns}"


def activity_sql(backend, grain: Grain) -> str:
    """Distinct user x period x event type x segment values: what a segment filter selects
    activity by."""
    return (f"select distinct {activity_select_list(backend, grain)}"
            f" from {backend.relation(schema.EVENTS)}")
