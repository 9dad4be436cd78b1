"""Runs checked SQL in a throw-away in-memory DuckDB that can read nothing but what it was given.

Each run gets a fresh connection in a process of its own: the metric tables are copied in, the
events file (DuckDB backend only) is attached read-only, then external access is switched off and
the configuration locked, so even SQL that slipped past the guard cannot read files, load
extensions or write to the data. Only the first rows are fetched.

DuckDB's memory_limit bounds its buffer pool, not every value a query builds (range() turned
into one huge list, repeat() into one huge string), and its interrupt is not seen inside such a
function. So the limits are held from outside: the parent watches the process's resident memory
and its time, and kills it past either bound.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import psutil

from queries import schema
from queries.ask.sql_guard import CheckedSQL, RefusedSQL

ROW_LIMIT = 200
TIME_LIMIT_SECONDS = 10.0
MEMORY_LIMIT_BYTES = 1 << 30
# The child's own start (Python, DuckDB and pandas imported, tables copied in) is not the
# query's time; it is bounded too.
START_SECONDS = 20.0
WATCH_INTERVAL_SECONDS = 0.02
TOO_MUCH_MEMORY = (f"the query needed more than {MEMORY_LIMIT_BYTES / (1 << 30):g} GB of memory"
                   " and was stopped: make it smaller")
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
    memory_bytes: int = MEMORY_LIMIT_BYTES,
) -> SqlResult:
    """`tables` must hold every table the SQL reads, except `events`, read from events_file.

    Runs in a child process, killed past `seconds` of query time or `memory_bytes` of resident
    memory; raises SandboxError (or RefusedSQL) with a message for the model."""
    if schema.EVENTS in checked.tables and events_file is None:
        raise RefusedSQL("the raw events table is not available on this backend")
    needed = {name: tables[name] for name in checked.tables if name != schema.EVENTS}
    context = multiprocessing.get_context("spawn")  # no fork of a threaded server
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=sandbox_child, daemon=True, args=(
        child, checked, needed, events_file, row_limit, seconds, memory_bytes))
    process.start()
    child.close()
    try:
        return watch(process, parent, seconds, memory_bytes)
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()


def sandbox_child(pipe, checked: CheckedSQL, tables, events_file, row_limit, seconds,
                  memory_bytes: int) -> None:
    """In the child: says "started" once set up, then sends the result or the error. The
    kernel caps its heap too: memory grabbed between two of the parent's looks cannot go far
    past the bound (an allocation past it fails, and the query with it)."""
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    try:
        pipe.send(run_here(checked, tables, events_file, row_limit, seconds, pipe))
    except (SandboxError, RefusedSQL) as error:
        pipe.send(error)
    except Exception as error:  # anything else is reported as a failed query, not a crash
        pipe.send(SandboxError(first_line(error)))


def watch(process, pipe, seconds: float, memory_bytes: int) -> SqlResult:
    """The child's answer, or SandboxError once it passes a bound (it is then killed)."""
    watched = psutil.Process(process.pid)
    deadline, started = time.monotonic() + START_SECONDS, False
    while True:
        if pipe.poll(WATCH_INTERVAL_SECONDS):
            try:
                message = pipe.recv()
            except EOFError:  # the child died (killed by the system, say)
                raise SandboxError("the query stopped without an answer") from None
            if message == "started":
                deadline, started = time.monotonic() + seconds, True
                continue
            if isinstance(message, Exception):
                raise message
            return message
        if not process.is_alive():
            raise SandboxError("the query stopped without an answer")
        try:
            resident = watched.memory_info().rss
        except psutil.NoSuchProcess:
            continue
        if resident > memory_bytes:
            raise SandboxError(TOO_MUCH_MEMORY)
        if time.monotonic() > deadline:
            if not started:
                raise SandboxError("the sandbox did not start in time")
            raise SandboxError(
                f"the query ran longer than {seconds:g} s and was stopped: simplify it")


def run_here(checked: CheckedSQL, tables, events_file, row_limit, seconds, pipe=None):
    """The query on a fresh, locked-down in-memory connection in this process."""
    with duckdb.connect(":memory:") as connection:
        connection.execute("set TimeZone = 'UTC'")
        for name in sorted(checked.tables):
            if name == schema.EVENTS:
                attach_events(connection, events_file)
            else:
                copy_table(connection, name, tables[name])
        for statement in LOCKDOWN:
            connection.execute(statement)
        if pipe is not None:
            pipe.send("started")
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
    except (duckdb.OutOfMemoryException, MemoryError):
        raise SandboxError(TOO_MUCH_MEMORY) from None
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
