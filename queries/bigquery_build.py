"""`python -m app build` on BigQuery: the per-grain user histories and activity (as DuckDB keeps
them, queries/histories.py) written into BQ_BUILD_DATASET, so that views stop scanning every
event on every cache miss; dbt users keep such models in the warehouse for the same reason.

Each build reads a checksum of every day's events (queries/sql/build_days.sql) and compares it
with the last build's. Periods before the first day that changed are kept as built; the rest
are rebuilt from that period's first moment, so new days cost a scan of just those days (on a
source that prunes by day) and older changes rebuild from where they start. The build records
the data version it read; views use the histories only while the events still have it
(BigQueryBackend.materialised_user_periods).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

import pandas as pd

from queries import schema, sql_files
from queries.bigquery import BUILD_STATE, BigQueryBackend, translated_errors
from queries.errors import UserError
from queries.filters import SegmentFilter
from queries.growth import filterable_columns, user_periods_sql
from queries.histories import activity_select_list, activity_sql
from queries.periods import Grain, period_index, period_start
from queries.query_spec import DAY_WINDOW

STATE_SCHEMA = (("day", "DATE"), ("events", "INT64"), ("checksum", "INT64"))


@dataclass(frozen=True)
class BuildReport:
    first_day: dt.date | None  # the first day rebuilt; None when nothing changed
    full: bool
    new_days: int
    changed_days: int
    seconds: float

    def describe(self) -> str:
        if self.first_day is None:
            return "the user histories are up to date: no day changed since the last build"
        kind = "built" if self.full else "updated"
        return (f"{kind} the user histories from {self.first_day} ({self.new_days:,} new"
                f" days, {self.changed_days:,} changed) in {self.seconds:.1f} s")


class EventsOnly:
    """The backend as the build reads it: from the events, never the histories it writes."""

    materialised_user_periods = False

    def __init__(self, backend: BigQueryBackend):
        self.backend, self.dialect, self.name = backend, backend.dialect, backend.name

    def relation(self, table: str) -> str:
        return self.backend.relation(table)

    def event_columns(self) -> list[str]:
        return self.backend.event_columns()


def build(backend: BigQueryBackend) -> BuildReport:
    started = time.perf_counter()
    settings = backend.settings
    if not settings.build_dataset:
        raise UserError("set BQ_BUILD_DATASET to a dataset the account may write to: build"
                        " keeps the user histories there")
    ensure_dataset(backend)
    version = backend.data_version()  # first: data arriving meanwhile makes the version newer
    columns = filterable_columns(backend)
    days = backend.run(sql_files.render("build_days", events=backend.relation(schema.EVENTS)), {})
    state = backend.build_state()
    previous = previous_days(backend) if reusable(state, backend, columns) else None
    first_day, new_days, changed_days = first_change(previous, days)
    full = previous is None or (first_day is not None and first_day <= previous["day"].min())
    if full and not days.empty:
        first_day = days["day"].min()
    if first_day is not None:
        for grain in Grain:
            write_grain(backend, grain, None if full else first_day)
    write_state(backend, days, {"version": version, "source": backend.cache_namespace,
                                "columns": columns})
    return BuildReport(first_day, full and first_day is not None, new_days, changed_days,
                       time.perf_counter() - started)


def ensure_dataset(backend: BigQueryBackend) -> None:
    """The build dataset, made (in the configured location) when it is not there yet."""
    from google.api_core.exceptions import NotFound
    from google.cloud import bigquery

    project, dataset = backend.settings.build_path(BUILD_STATE).split(".")[:2]
    reference = bigquery.DatasetReference(project, dataset)
    with translated_errors(backend.settings):
        try:
            backend.client.get_dataset(reference)
        except NotFound:
            made = bigquery.Dataset(reference)
            if backend.settings.location:
                made.location = backend.settings.location
            backend.client.create_dataset(made, exists_ok=True,
                                          timeout=backend.settings.timeout_seconds)


def reusable(state: dict | None, backend: BigQueryBackend, columns: list[str]) -> bool:
    """Whether the built tables came from these events with these columns."""
    return bool(state) and state.get("source") == backend.cache_namespace \
        and state.get("columns") == columns


def previous_days(backend: BigQueryBackend) -> pd.DataFrame:
    path = backend.settings.build_path(BUILD_STATE)
    return backend.run(f"select day, events, checksum from `{path}`", {})


def first_change(previous: pd.DataFrame | None, days: pd.DataFrame):
    """(first day that differs, new days, changed or removed days) between two summaries."""
    if previous is None:
        return (days["day"].min() if not days.empty else None), len(days), 0
    merged = previous.merge(days, on="day", how="outer", suffixes=("_before", "_now"),
                            indicator=True)
    new = merged["_merge"] == "right_only"
    same = (merged["events_before"] == merged["events_now"]) & (
        merged["checksum_before"] == merged["checksum_now"])
    differs = ~same
    if not differs.any():
        return None, 0, 0
    return merged.loc[differs, "day"].min(), int(new.sum()), int((differs & ~new).sum())


def write_grain(backend: BigQueryBackend, grain: Grain, since: dt.date | None) -> None:
    """Replaces one grain's histories and activity: whole, or from the period holding `since`."""
    settings = backend.settings
    histories = settings.build_path(schema.user_periods_table(grain))
    activity = settings.build_path(schema.activity_table(grain))
    events = EventsOnly(backend)
    if since is None:
        histories_sql, _ = user_periods_sql(events, grain, SegmentFilter())
        activity_select = activity_sql(events, grain)
        params = {}
    else:
        since_period = period_index(since, grain)
        first_day = period_start(since_period, grain)
        params = {"since_period": since_period,
                  "since_time": dt.datetime.combine(first_day, dt.time())}
        if DAY_WINDOW[0] in backend.relation(schema.EVENTS):  # GA4: read just those tables
            params |= dict(zip(DAY_WINDOW, (first_day, None), strict=True))
        dialect = backend.dialect
        histories_sql = sql_files.render(
            "build_user_periods", events=backend.relation(schema.EVENTS),
            histories=f"`{histories}`",
            period_of_event_time=dialect.period_of_timestamp("event_time", grain))
        columns = ", ".join(["user_id", "period", *map(dialect.quote, filterable_columns(events))])
        activity_select = sql_files.render(
            "build_activity", columns=columns, activity=f"`{activity}`",
            event_columns=activity_select_list(events, grain),
            events=backend.relation(schema.EVENTS))
    for table, sql in ((histories, histories_sql), (activity, activity_select)):
        backend.run(f"create or replace table `{table}` as {sql}", params)


def write_state(backend: BigQueryBackend, days: pd.DataFrame, record: dict) -> None:
    """The days read, as a table; the version and columns, in its description (read free)."""
    from google.cloud import bigquery

    path = backend.settings.build_path(BUILD_STATE)
    rows = [{"day": day.isoformat(), "events": int(events), "checksum": int(checksum)}
            for day, events, checksum in days[["day", "events", "checksum"]].itertuples(
                index=False)]
    config = bigquery.LoadJobConfig(
        schema=[bigquery.SchemaField(name, kind) for name, kind in STATE_SCHEMA],
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
    )
    client = backend.client
    with translated_errors(backend.settings):
        client.load_table_from_json(rows, path, job_config=config).result(
            timeout=backend.settings.timeout_seconds)
        table = client.get_table(path)
        table.description = json.dumps(record, sort_keys=True)
        client.update_table(table, ["description"])
