"""Runs checked SQL in a throw-away in-memory DuckDB that can read nothing but what it was given.

Each run gets a fresh connection: the metric tables are copied in, the events file (DuckDB
backend only) is attached read-only, then external access is switched off and the configuration
locked, so even SQL that slipped past the guard cannot read files, load extensions or write to
the data. A timer interrupts a query that runs too long; only the first rows are fetched.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from queries import schema
from queries.ask.sql_guard import CheckedSQL, RefusedSQL

ROW_LIMIT = 200
TIME_LIMIT_SECONDS = 10.0
EVENTS_DATABASE = "store"
LOCKDOWN = (
    "set enable_external_access = false",
    "set python_enable_replacements = false",
    "set autoinstall_known_extensions = false",
    "set autoload_known_extensions = false",
    "set memory_limit = '1GB'",
    "set threads = 1",
    "set lock_configuration = true",
)


class SandboxError(RuntimeError):
    """The query ran but failed (bad column, timeout): the message goes back to the model."""


@dataclass(frozen=True)
class SqlResult:
    frame: pd.DataFrame
    truncated: bool  # more rows than the row limit


def run_sandboxed(
    checked: CheckedSQL,
    tables: Mapping[str, pd.DataFrame],
    events_file: Path | None = None,
    row_limit: int = ROW_LIMIT,
    seconds: float = TIME_LIMIT_SECONDS,
) -> SqlResult:
    """`tables` must hold every table the SQL reads, except `events`, read from events_file."""
    with duckdb.connect(":memory:") as connection:
        connection.execute("set TimeZone = 'UTC'")
        for name in sorted(checked.tables):
            if name == schema.EVENTS:
                attach_events(connection, events_file)
            else:
                copy_table(connection, name, tables[name])
        for statement in LOCKDOWN:
            connection.execute(statement)
        return fetch_limited(connection, checked.sql, row_limit, seconds)


def attach_events(connection: duckdb.DuckDBPyConnection, events_file: Path | None) -> None:
    if events_file is None:
        raise RefusedSQL("the raw events table is not available on this backend")
    connection.execute(f"attach $path as {EVENTS_DATABASE} (read_only)", {"path": str(events_file)})
    connection.execute(
        f"create view {schema.EVENTS} as select * from {EVENTS_DATABASE}.{schema.EVENTS}"
    )


def copy_table(connection: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    source = f"{name}_source"
    connection.register(source, frame)
    connection.execute(f"create table {name} as select * from {source}")
    connection.unregister(source)


def fetch_limited(
    connection: duckdb.DuckDBPyConnection, sql: str, row_limit: int, seconds: float
) -> SqlResult:
    timer = threading.Timer(seconds, connection.interrupt)
    timer.start()
    try:
        result = connection.execute(sql)
        rows = result.fetchmany(row_limit + 1)
        columns = [column[0] for column in result.description]
    except duckdb.InterruptException:
        raise SandboxError(
            f"the query ran longer than {seconds:g} s and was stopped: simplify it"
        ) from None
    except duckdb.PermissionException as error:
        raise RefusedSQL(f"not allowed: {first_line(error)}") from None
    except duckdb.Error as error:
        raise SandboxError(first_line(error)) from None
    finally:
        timer.cancel()
    frame = pd.DataFrame(rows[:row_limit], columns=columns)
    return SqlResult(frame, truncated=len(rows) > row_limit)


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
