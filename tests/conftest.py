"""Shared fixtures: real DuckDB files built through the app's own loader."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from app.storage import Source, load

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(executable: str, why: str) -> str:
    """Skip locally when a system tool is missing, but fail in CI, where .ci/run installs it."""
    path = shutil.which(executable)
    if path is None:
        message = f"{executable} is not installed ({why})"
        if IN_CI:
            pytest.fail(message + ": .ci/run should have installed it")
        pytest.skip(message)
    return path


# A three-event log with a `platform` segment, for tests that need an app over real data.
PLATFORM_ROWS = [
    ("2024-01-01 09:00:00", "u1", "session", None, "web"),
    ("2024-01-09 09:00:00", "u1", "session", None, "ios"),
    ("2024-01-10 09:00:00", "u2", "purchase", 5.0, "ios"),
]


def events_table(rows: list[tuple], segment_columns: tuple[str, ...] = ()) -> pa.Table:
    """Rows are (event_time, user_id, event_type[, revenue[, *segments]])."""
    columns = {"event_time": [], "user_id": [], "event_type": [], "revenue": []}
    columns |= {name: [] for name in segment_columns}
    for row in rows:
        when, user, kind, *rest = row
        revenue = rest[0] if rest else None
        columns["event_time"].append(
            when if isinstance(when, dt.datetime) else dt.datetime.fromisoformat(when)
        )
        columns["user_id"].append(user)
        columns["event_type"].append(kind)
        columns["revenue"].append(revenue)
        for name, value in zip(segment_columns, rest[1:], strict=True):
            columns[name].append(value)
    schema = pa.schema(
        [("event_time", pa.timestamp("us")), ("user_id", pa.string()),
         ("event_type", pa.string()), ("revenue", pa.float64())]
        + [(name, pa.string()) for name in segment_columns]
    )
    return pa.table(columns, schema=schema)


@pytest.fixture
def make_db(tmp_path):
    """Builds a DuckDB file from event rows through the real loader; returns its path."""
    counter = iter(range(1000))

    def build(rows, segment_columns=(), assignments: pa.Table | None = None) -> Path:
        path = tmp_path / f"events_{next(counter)}.duckdb"
        load(
            path,
            Source("test-events", table=events_table(rows, segment_columns)),
            Source("test-assignments", table=assignments) if assignments is not None else None,
        )
        return path

    return build


def log_databases(folder: Path, logs: dict[str, tuple[list, tuple[str, ...]]]):
    """A loader of hand-made logs by name, each loaded once through the real loader:
    build("SHOP") is the path of the DuckDB file holding logs["SHOP"]."""
    paths: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in paths:
            rows, segment_columns = logs[name]
            paths[name] = folder / f"{name.lower()}.duckdb"
            load(paths[name], Source(f"{name}-events", table=events_table(rows, segment_columns)))
        return paths[name]

    return build


@pytest.fixture(scope="session")
def bigquery_emulator():
    """One BigQuery emulator for the whole session (tests/bq_emulator.py); it takes seconds
    to start."""
    from tests.bq_emulator import running_emulator

    with running_emulator("growth-test") as emulator:
        yield emulator
