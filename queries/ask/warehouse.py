"""The model's SQL over `events` on a warehouse backend (BigQuery): dry-run first, capped bytes.

Contract with the backend (queries/backends.py's Backend, as app.factory.build_backend returns):
- `supports_dry_run` is True, and `dry_run(sql: str, params: dict) -> int` gives the bytes the
  query would process, without running it; it raises BackendError when the SQL is invalid.
- `run(sql, params)` runs it (the backend applies its own maximum-bytes-billed cap as well).
- `relation(schema.EVENTS)` is the FROM item the model's `events` is rewritten to.
The SQL arrives checked by queries/ask/sql_guard.py, written in DuckDB's dialect; it is translated
to BigQuery's with sqlglot.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from queries import schema
from queries.ask.sandbox import SqlResult
from queries.ask.sql_guard import CheckedSQL, RefusedSQL


def to_warehouse_sql(checked: CheckedSQL, events_relation: str, row_limit: int) -> str:
    statement = sqlglot.parse_one(checked.sql, read="duckdb")
    for table in list(statement.find_all(exp.Table)):
        if table.name.lower() == schema.EVENTS:
            table.replace(from_item(events_relation, table.alias_or_name))
    limited = exp.select("*").from_(statement.subquery("model_query")).limit(row_limit + 1)
    return limited.sql(dialect="bigquery")


def from_item(relation: str, alias: str) -> exp.Expression:
    """The backend's relation under the model's alias. A mapped table or a preset is a
    subquery, which must stay one: read as a table name, it became one quoted name."""
    parsed = sqlglot.parse_one(relation, read="bigquery")
    if isinstance(parsed, exp.Subquery):
        return exp.Subquery(this=parsed.this, alias=exp.TableAlias(this=exp.to_identifier(alias)))
    return exp.to_table(relation, dialect="bigquery").as_(alias)


def run_on_warehouse(backend, checked: CheckedSQL, max_bytes: int, row_limit: int) -> SqlResult:
    if not backend.supports_dry_run:
        raise RefusedSQL("the raw events table is not available on this backend")
    sql = to_warehouse_sql(checked, backend.relation(schema.EVENTS), row_limit)
    estimated = backend.dry_run(sql, {})
    if estimated > max_bytes:
        raise RefusedSQL(
            f"the query would scan {estimated / 1e9:.2f} GB, above the cap of"
            f" {max_bytes / 1e9:.2f} GB: select fewer columns or a shorter time range"
        )
    frame = backend.run(sql, {})
    return SqlResult(frame.head(row_limit), truncated=len(frame) > row_limit)
