"""Writes validated data into the DuckDB file in one transaction, or not at all."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from app.file_layouts import RAW_TABLE, LoadOptions, shape_events
from app.timestamps import time_zone, timestamp_reader
from app.validation import (
    ASSIGNMENTS_KIND,
    EVENTS_KIND,
    FileKind,
    LoadError,
    Problem,
    TimestampRange,
    check_columns,
    check_values,
    file_format,
    stage_file,
    stage_raw,
)
from queries import schema
from queries.backends import connect_duckdb
from queries.dialect import DUCKDB
from queries.filters import SegmentFilter
from queries.growth import user_periods_sql
from queries.histories import activity_sql
from queries.periods import Grain

STAGED_EVENTS = "staged_events"
STAGED_ASSIGNMENTS = "staged_assignments"


@dataclass(frozen=True)
class Source:
    """A file, or an Arrow table under a name (the demo generator's output)."""

    name: str
    path: Path | None = None
    table: pa.Table | None = None

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        if self.path is not None:
            with self.path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        else:
            digest.update(self.name.encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class LoadReport:
    events: int
    assignments: int
    seconds: float


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def step(message: str):
    """Names each stage of a load and its duration; DuckDB draws a bar for long queries."""
    progress(f"{message} ...")
    started = time.perf_counter()
    yield
    progress(f"{message}: done in {time.perf_counter() - started:.1f} s")


def load(
    db_path: Path,
    events: Source,
    assignments: Source | None = None,
    replace: bool = False,
    timestamps: TimestampRange | None = None,
    options: LoadOptions | None = None,
) -> LoadReport:
    """Validate everything first, then write it all in a single transaction. `options` say
    how the events file's columns become the app's (a mapping, another tool's layout)."""
    started = time.perf_counter()
    options = options or LoadOptions()
    zone = time_zone(options.timezone)
    staging = staging_connection()
    events_kind = dataclasses.replace(within(EVENTS_KIND, timestamps), zone=zone,
                                      labels=tuple(options.labels().items()))
    sources = [(events, STAGED_EVENTS, events_kind)]
    if assignments is not None:
        assignments_kind = dataclasses.replace(within(ASSIGNMENTS_KIND, timestamps), zone=zone)
        sources.append((assignments, STAGED_ASSIGNMENTS, assignments_kind))
    fingerprints = {}
    for source, table, kind in sources:
        with step(f"checking {source.name}"):
            stage(staging, source, table, kind, options if kind is events_kind else None)
            fingerprints[table] = source.fingerprint()
    return store(staging, db_path, sources, fingerprints, replace, started)


def within(kind: FileKind, timestamps: TimestampRange | None) -> FileKind:
    """The kind of file, with the timestamps it may hold (the default range without one)."""
    return kind if timestamps is None else dataclasses.replace(kind, timestamps=timestamps)


def staging_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory database where files are checked before anything is written."""
    staging = duckdb.connect()
    staging.execute("SET TimeZone = 'UTC'")
    if sys.stderr.isatty():
        staging.execute("SET enable_progress_bar = true")
    return staging


def store(staging, db_path: Path, sources, fingerprints, replace: bool, started: float):
    """Writes staged, checked sources [(source, staged table, kind)] in one transaction."""
    refuse_duplicates(previous_loads(db_path), sources, fingerprints, replace)
    with step(f"writing to {db_path}"):
        counts = write(staging, db_path, sources, fingerprints, replace)
    report = LoadReport(
        sum(counts[table] for _, table, kind in sources if kind.noun == EVENTS_KIND.noun),
        sum(counts[table] for _, table, kind in sources if kind.noun == ASSIGNMENTS_KIND.noun),
        time.perf_counter() - started,
    )
    progress(
        f"loaded {report.events:,} events and {report.assignments:,} assignments"
        f" in {report.seconds:.1f} s"
    )
    return report


def stage(connection, source: Source, table: str, kind, options: LoadOptions | None = None):
    if source.path is not None and options and options.reshapes(file_format(source.path)):
        fmt = stage_raw(connection, source.path, RAW_TABLE)
        segments = shape_events(connection, source.path, fmt, table, options)
        progress("segment columns: " + (", ".join(
            name if name == origin else f"{name} (from {origin})"
            for name, origin in segments.items()) or "none"))
        connection.execute(f"drop table {RAW_TABLE}")
        check_values(connection, source.path, table, kind, fmt)
        return
    if source.path is not None:
        stage_file(connection, source.path, table, kind)
        return
    connection.register("arrow_source", source.table)
    connection.execute(f"create table {table} as select * from arrow_source")
    connection.unregister("arrow_source")
    check_columns(Path(source.name), source.table.column_names, kind)
    check_values(connection, Path(source.name), table, kind, "arrow")


def previous_loads(db_path: Path) -> list[tuple]:
    if not db_path.exists():
        return []
    try:
        connection = connect_duckdb(db_path, read_only=True)
    except duckdb.IOException as error:
        raise unopenable(db_path, error) from error
    with connection:
        try:
            return connection.execute(
                f"select kind, file_name, fingerprint, loaded_at from {schema.LOADS}"
            ).fetchall()
        except duckdb.CatalogException:
            return []


def refuse_duplicates(loads: list[tuple], sources, fingerprints, replace: bool) -> None:
    if replace:
        return
    loaded = {fingerprint: (name, at) for _, name, fingerprint, at in loads}
    for source, table, _ in sources:
        if fingerprints[table] in loaded:
            name, at = loaded[fingerprints[table]]
            message = (
                f"this file was already loaded on {at:%Y-%m-%d %H:%M} UTC (as {name});"
                " loading it again would double-count. Use --replace to reload it."
            )
            raise LoadError(source.path or source.name, [Problem(message)])


def write(staging, db_path: Path, sources, fingerprints, replace: bool) -> dict[str, int]:
    """Writes into a copy of the database, then puts the copy in its place in one rename:
    readers keep the file they opened, new ones open the new file, and none ever meets a
    writer's lock. Writers queue on a lock file; a failed write leaves the database as it was."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_writer(db_path):
        work = working_copy(db_path)
        try:
            counts = write_into(staging, work, sources, fingerprints, replace)
            os.replace(work, db_path)
            wal_of(db_path).unlink(missing_ok=True)  # a log of the old file, replayed on none
        finally:
            for leftover in (work, wal_of(work)):
                leftover.unlink(missing_ok=True)
    return counts


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


@contextmanager
def exclusive_writer(db_path: Path):
    """One writer at a time (load, refresh, demo): the next one waits its turn."""
    with open(db_path.with_name(db_path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def working_copy(db_path: Path) -> Path:
    """A private copy of the database (and of its log, if one is left), in the same folder so
    the rename is atomic."""
    work = db_path.with_name(f".{db_path.name}.writing-{os.getpid()}")
    for source, target in ((db_path, work), (wal_of(db_path), wal_of(work))):
        if source.exists():
            shutil.copyfile(source, target)
    return work


def write_into(staging, db_path: Path, sources, fingerprints, replace: bool) -> dict[str, int]:
    attach(staging, db_path)
    counts = {}
    try:
        staging.execute("begin transaction")
        create_tables(staging)
        # Again inside the transaction: another load may have written the same file meanwhile.
        loads = staging.execute(
            f"select kind, file_name, fingerprint, loaded_at from store.{schema.LOADS}"
        ).fetchall()
        refuse_duplicates(loads, sources, fingerprints, replace)
        for source, table, kind in sources:
            if replace:
                forget_earlier_loads(staging, kind.noun, source.name, fingerprints[table])
            load_id = record_load(staging, kind.noun, source.name, fingerprints[table], table)
            counts[table] = insert(staging, table, kind, load_id)
        with step("building per-grain user histories"):
            materialise_user_periods(staging)
        bump_data_version(staging)
        staging.execute("commit")
    except BaseException:
        staging.execute("rollback")
        raise
    else:
        # Fold the write-ahead log into the file so read-only readers see one consistent file.
        staging.execute("checkpoint store")
    finally:
        staging.execute("detach store")
    return counts


def attach(connection, db_path: Path) -> None:
    """The writer's private copy: no reader holds it, so no lock to wait for."""
    try:
        connection.execute("attach $path as store", {"path": str(db_path)})
    except duckdb.IOException as error:
        raise unopenable(db_path, error) from error


def unopenable(db_path: Path, error: duckdb.Error) -> LoadError:
    """Not a DuckDB file, a directory, or locked by a writer: a message, not a traceback."""
    first_line = str(error).strip().splitlines()[0]
    return LoadError(db_path, [Problem(f"cannot open the database: {first_line}")])


def create_tables(connection) -> None:
    connection.execute(
        f"create table if not exists store.{schema.LOADS} (load_id integer primary key,"
        " kind varchar not null, file_name varchar not null, fingerprint varchar not null,"
        " rows bigint, loaded_at timestamp not null)"
    )
    connection.execute(
        f"create table if not exists store.{schema.META} (key varchar primary key, value varchar)"
    )
    connection.execute(
        f"create table if not exists store.{schema.EVENTS} (event_time timestamp not null,"
        " user_id varchar not null, event_type varchar not null, revenue double,"
        " load_id integer not null)"
    )
    connection.execute(
        f"create table if not exists store.{schema.ASSIGNMENTS} (experiment varchar not null,"
        " user_id varchar not null, variant varchar not null, assigned_at timestamp,"
        " load_id integer not null)"
    )


def forget_earlier_loads(connection, kind: str, name: str, fingerprint: str) -> None:
    target = schema.EVENTS if kind == "events" else schema.ASSIGNMENTS
    earlier = (
        f"select load_id from store.{schema.LOADS} where kind = $kind"
        " and (fingerprint = $fingerprint or file_name = $name)"
    )
    params = {"kind": kind, "fingerprint": fingerprint, "name": name}
    connection.execute(f"delete from store.{target} where load_id in ({earlier})", params)
    connection.execute(f"delete from store.{schema.LOADS} where load_id in ({earlier})", params)


def record_load(connection, kind: str, name: str, fingerprint: str, table: str) -> int:
    load_id = connection.execute(
        f"select coalesce(max(load_id), 0) + 1 from store.{schema.LOADS}"
    ).fetchall()[0][0]
    rows = connection.execute(f"select count(*) from {table}").fetchall()[0][0]
    connection.execute(
        f"insert into store.{schema.LOADS} values ($id, $kind, $name, $fingerprint, $rows, $at)",
        {
            "id": load_id, "kind": kind, "name": name, "fingerprint": fingerprint,
            "rows": rows, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        },
    )
    return load_id


def insert(connection, table: str, kind: FileKind, load_id: int) -> int:
    types = {row[0]: row[1] for row in connection.execute(f"describe {table}").fetchall()}
    staged = list(types)

    def as_utc_timestamp(column: str, staged_type: str) -> str:
        return timestamp_reader(connection, table, column, staged_type, kind.zone).sql(
            column, staged_type)

    if kind.noun == "events":
        target = schema.EVENTS
        segments = kept_segment_columns(connection, staged)
        add_segment_columns(connection, segments)
        expressions = {
            "event_time": as_utc_timestamp("event_time", types["event_time"]),
            "user_id": "trim(cast(user_id as varchar))",
            "event_type": "trim(cast(event_type as varchar))",
            "revenue": "try_cast(revenue as double)" if "revenue" in staged else "null",
        }
        # Quoted: a segment column may be named like a keyword ("order", "group").
        expressions |= {c: f"cast({DUCKDB.quote(c)} as varchar)" for c in segments}
    else:
        target = schema.ASSIGNMENTS
        expressions = {
            c: f"trim(cast({c} as varchar))" for c in schema.REQUIRED_ASSIGNMENT_COLUMNS
        }
        has_time = "assigned_at" in staged
        expressions["assigned_at"] = (
            as_utc_timestamp("assigned_at", types["assigned_at"]) if has_time else "null"
        )
    columns = ", ".join(DUCKDB.quote(c) for c in [*expressions, "load_id"])
    values = ", ".join([*expressions.values(), str(int(load_id))])
    connection.execute(f"insert into store.{target} ({columns}) select {values} from {table}")
    return connection.execute(f"select count(*) from {table}").fetchall()[0][0]


def stored_columns(connection) -> set[str]:
    """The stored events table's columns, lower-cased: DuckDB names are case-insensitive, so
    'Platform' is the stored 'platform'."""
    return {
        row[0].lower()
        for row in connection.execute(
            "select column_name from duckdb_columns()"
            " where database_name = 'store' and table_name = $table",
            {"table": schema.EVENTS},
        ).fetchall()
    }


def kept_segment_columns(connection, staged_columns: list[str]) -> list[str]:
    """The file's segment columns that are stored: those the table has, then new ones while
    it has fewer than schema.MAX_SEGMENT_COLUMNS (each is a filter and a query on the page). The
    rest are dropped, and the load says which columns it kept."""
    existing = stored_columns(connection)
    stored = len(schema.segment_columns(sorted(existing)))
    kept, dropped = [], []
    for column in schema.segment_columns(staged_columns):
        if column.lower() in existing or stored < schema.MAX_SEGMENT_COLUMNS:
            stored += column.lower() not in existing
            kept.append(column)
        else:
            dropped.append(column)
    if dropped:
        progress(f"kept {len(kept)} segment columns ({', '.join(kept)}); dropped"
                 f" {len(dropped):,} beyond {schema.MAX_SEGMENT_COLUMNS} segment columns in all"
                 f" ({', '.join(dropped[:5])}{', ...' if len(dropped) > 5 else ''})")
    return kept


def add_segment_columns(connection, segment_columns: list[str]) -> None:
    existing = stored_columns(connection)
    for column in segment_columns:
        if column.lower() not in existing:
            connection.execute(
                f"alter table store.{schema.EVENTS} add column {DUCKDB.quote(column)} varchar"
            )


def materialise_user_periods(connection) -> None:
    """Per-grain user histories, so unfiltered views skip the scan and window over all events,
    and per-grain activity by segment values, so filtered views skip the scan."""
    connection.execute("use store")
    try:
        events = UnmaterialisedDuckDB(connection)
        for grain in Grain:
            sql, _ = user_periods_sql(events, grain, SegmentFilter())
            histories, activity = schema.user_periods_table(grain), schema.activity_table(grain)
            connection.execute(f"create or replace table {histories} as {sql}")
            connection.execute(
                f"create or replace table {activity} as {sorted_activity_sql(events, grain)}")
    finally:
        connection.execute("use memory")


def sorted_activity_sql(events, grain: Grain) -> str:
    """The activity, sorted so a user's periods sit together (DuckDB skips by sorted runs)."""
    return f"{activity_sql(events, grain)} order by user_id, period"


class UnmaterialisedDuckDB:
    """Just enough of a backend to render the user-period SQL against the attached store."""

    name = "duckdb"
    dialect = DUCKDB
    materialised_user_periods = False

    def __init__(self, connection):
        self.connection = connection

    def relation(self, table: str) -> str:
        return table

    def event_columns(self) -> list[str]:
        return [row[0] for row in self.connection.execute(f"describe {schema.EVENTS}").fetchall()]


def bump_data_version(connection) -> None:
    version = f"{time.time_ns()}"
    connection.execute(
        f"insert or replace into store.{schema.META} values ('data_version', $version)",
        {"version": version},
    )


def database_is_empty(db_path: Path) -> bool:
    if not db_path.exists():
        return True
    with connect_duckdb(db_path, read_only=True) as connection:
        try:
            return not connection.execute(f"select count(*) from {schema.EVENTS}").fetchall()[0][0]
        except duckdb.CatalogException:
            return True

