"""A database-free backend description for rendering SQL, and the snapshot file format.

Snapshots hold the SQL a query sends (as the query code hands it to `Backend.run`) followed by
its bound parameters as a trailing comment, so a review shows any change to either.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from contextlib import nullcontext
from pathlib import Path

from queries import schema
from queries.bounds import DataBounds
from queries.dialect import BIGQUERY, DUCKDB, Dialect

SNAPSHOT_DIR = Path(__file__).with_name("snapshots")
UPDATE = os.environ.get("UPDATE_SNAPSHOTS", "") == "1"
# A Wednesday: the last week and month are incomplete.
BOUNDS = DataBounds(dt.date(2024, 1, 1), dt.date(2024, 3, 20), 1000)
EVENT_COLUMNS = ["event_time", "user_id", "event_type", "revenue", "platform", "country"]
RELATIONS = {
    "duckdb": {schema.EVENTS: schema.EVENTS, schema.ASSIGNMENTS: schema.ASSIGNMENTS}
    | {table: table for table in schema.materialised_tables()},
    "bigquery": {
        schema.EVENTS: "`demo-project.analytics.events`",
        schema.ASSIGNMENTS: "`demo-project.analytics.assignments`",
    } | {table: f"`demo-project.histories.{table}`" for table in schema.materialised_tables()},
}


class DescribedBackend:
    """The Backend protocol over fixed columns and relation names; it runs nothing."""

    def __init__(self, dialect: Dialect, materialised_user_periods: bool):
        self.name = dialect.name
        self.dialect = dialect
        self.materialised_user_periods = materialised_user_periods
        self.supports_dry_run = False
        self.cache_namespace = f"snapshot:{dialect.name}"

    def relation(self, table: str) -> str:
        return RELATIONS[self.name][table]

    def event_columns(self) -> list[str]:
        return list(EVENT_COLUMNS)

    def data_version(self) -> str:
        return "snapshot"

    def shared_connection(self):
        return nullcontext()

    def run(self, sql: str, params: dict):
        raise AssertionError("snapshot backends render SQL; they run none")

    def dry_run(self, sql: str, params: dict) -> int:
        raise AssertionError("snapshot backends render SQL; they run none")


def described_backends() -> dict[str, DescribedBackend]:
    """Each dialect as it is configured in the app: DuckDB reads materialised user periods."""
    return {
        "duckdb": DescribedBackend(DUCKDB, materialised_user_periods=True),
        "bigquery": DescribedBackend(BIGQUERY, materialised_user_periods=False),
    }


def parameter_text(value) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(parameter_text(v) for v in value) + "]"
    return json.dumps(value)


def snapshot_text(sql: str, params: dict) -> str:
    lines = [f"--   {name} = {parameter_text(params[name])}" for name in sorted(params)]
    return sql.rstrip("\n") + "\n\n-- parameters:\n" + ("\n".join(lines) or "--   (none)") + "\n"


def snapshot_path(dialect: str, name: str) -> Path:
    return SNAPSHOT_DIR / dialect / f"{name}.sql"


def compare_snapshot(path: Path, actual: str) -> str | None:
    """None when the committed file holds `actual` (rewritten first with UPDATE_SNAPSHOTS=1);
    otherwise what a reviewer needs: the unified diff, or the missing file."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return None
    if not path.exists():
        return f"no snapshot {path}: run with UPDATE_SNAPSHOTS=1 to write it"
    expected = path.read_text()
    if expected == actual:
        return None
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile=f"{path} (committed)", tofile=f"{path} (rendered now)",
    )
    return f"the rendered SQL differs from {path} (UPDATE_SNAPSHOTS=1 rewrites it):\n" + "".join(
        diff
    )
