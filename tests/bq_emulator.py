"""A real BigQuery API for tests: bqemulator run as a subprocess, and tables loaded into it.

bqemulator lives in its own virtual environment, made by .ci/setup-bqemulator (it pins its own
sqlglot and protobuf and registers a pytest plugin, so it stays out of the project's). Tests talk
to it through the real google-cloud-bigquery client, as the app does with BigQuery.

    with running_emulator("growth-test") as emulator:    # or in a session-scoped fixture
        client = emulator.client()
        load_frame(client, "analytics.events", events_table(rows), events_schema())
        client.query("select ...", job_config=...).result().to_arrow(
            create_bqstorage_client=False).to_pandas()
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from tests.conftest import IN_CI

DEFAULT_VENV = Path.home() / ".cache" / "growth-analytics" / "bqemulator-venv"
START_TIMEOUT = 60.0

EVENTS_SCHEMA = (
    bigquery.SchemaField("event_time", "TIMESTAMP"),
    bigquery.SchemaField("user_id", "STRING"),
    bigquery.SchemaField("event_type", "STRING"),
    bigquery.SchemaField("revenue", "FLOAT64"),
)
ASSIGNMENTS_SCHEMA = (
    bigquery.SchemaField("experiment", "STRING"),
    bigquery.SchemaField("user_id", "STRING"),
    bigquery.SchemaField("variant", "STRING"),
    bigquery.SchemaField("assigned_at", "TIMESTAMP"),
)

# Column types of a load, as Arrow types; TIMESTAMP is an instant in UTC (naive input is UTC).
_ARROW_TYPES = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "INTEGER": pa.int64(),
    "FLOAT64": pa.float64(),
    "FLOAT": pa.float64(),
    "BOOL": pa.bool_(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATE": pa.date32(),
}


def events_schema(segment_columns: Sequence[str] = ()) -> list[bigquery.SchemaField]:
    """The events table's schema, with a STRING column per segment (as conftest.events_table)."""
    return [*EVENTS_SCHEMA, *(bigquery.SchemaField(name, "STRING") for name in segment_columns)]


def emulator_venv() -> Path:
    return Path(os.environ.get("BQEMULATOR_VENV") or DEFAULT_VENV)


def emulator_executable() -> str:
    """The `bqemulator` of .ci/setup-bqemulator's environment: skips locally when it is
    missing, but fails in CI, where .ci/run should have installed it."""
    path = emulator_venv() / "bin" / "bqemulator"
    if not os.access(path, os.X_OK):
        message = f"the BigQuery emulator is not installed at {path} (run .ci/setup-bqemulator)"
        if IN_CI:
            pytest.fail(message + ": .ci/run should have installed it")
        pytest.skip(message)
    return str(path)


@dataclass(frozen=True)
class Emulator:
    endpoint: str  # http://127.0.0.1:PORT, the client's api_endpoint
    project: str
    log_path: Path

    def client(self) -> bigquery.Client:
        """A real BigQuery client talking to this emulator (no credentials needed)."""
        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _start(executable: str, project: str, log_path: Path, timeout: float):
    """Starts one emulator; returns (process, endpoint), or (None, reason) if it exited early
    (as when another process took a port between picking and binding it)."""
    rest_port, grpc_port = _free_port(), _free_port()
    endpoint = f"http://127.0.0.1:{rest_port}"
    env = os.environ | {
        # Avro load/extract needs a DuckDB extension that cannot be downloaded here; skipping
        # the attempt saves a few seconds of start-up.
        "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false",
    }
    command = [
        executable, "start", "--rest-port", str(rest_port), "--grpc-port", str(grpc_port),
        "--project", project, "--ephemeral", "--log-level", "warning",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None, f"the emulator exited with code {process.returncode}"
        if _healthy(endpoint):
            return process, endpoint
        time.sleep(0.1)
    _stop(process)
    return None, f"the emulator did not answer {endpoint}/healthz within {timeout:.0f} s"


@contextmanager
def running_emulator(project: str = "growth-test", timeout: float = START_TIMEOUT,
                     ) -> Iterator[Emulator]:
    """Starts bqemulator on free loopback ports (in memory, log in a temporary folder), waits
    for /healthz and yields an Emulator; stops the process on exit. Meant for a session-scoped
    fixture: start-up takes a few seconds."""
    executable = emulator_executable()
    with tempfile.TemporaryDirectory(prefix="bqemulator-") as folder:
        log_path = Path(folder) / "bqemulator.log"
        for _attempt in range(3):
            process, endpoint_or_reason = _start(executable, project, log_path, timeout)
            if process is not None:
                break
            if "address already in use" not in log_path.read_text(errors="replace").lower():
                break
        if process is None:
            emulator = Emulator(endpoint="", project=project, log_path=log_path)
            pytest.fail(f"{endpoint_or_reason}; end of its log:\n{emulator.log_tail()}")
        try:
            yield Emulator(endpoint=endpoint_or_reason, project=project, log_path=log_path)
        finally:
            _stop(process)


def _schema_fields(schema: Sequence[bigquery.SchemaField | tuple[str, str]]):
    return [
        field if isinstance(field, bigquery.SchemaField) else bigquery.SchemaField(*field)
        for field in schema
    ]


def _arrow_table(frame: pd.DataFrame | pa.Table, fields: list[bigquery.SchemaField]) -> pa.Table:
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(
        frame, preserve_index=False
    )
    names = [field.name for field in fields]
    if sorted(table.column_names) != sorted(names):
        raise ValueError(f"the frame's columns {table.column_names} are not the schema's {names}")
    columns = []
    for field in fields:
        target = _ARROW_TYPES.get(field.field_type.upper())
        if target is None:
            raise ValueError(f"load_frame does not handle {field.field_type} ({field.name})")
        column = table.column(field.name)
        # Timestamps finer than BigQuery's microseconds are cut, not refused.
        columns.append(column.cast(target, safe=not pa.types.is_timestamp(target)))
    return pa.table(columns, names=names)


def load_frame(client: bigquery.Client, table_id: str, frame: pd.DataFrame | pa.Table,
               schema: Sequence[bigquery.SchemaField | tuple[str, str]]) -> bigquery.Table:
    """Replaces table `table_id` ("dataset.table" or "project.dataset.table", its dataset made
    if missing) with the rows of `frame`, typed by `schema` (SchemaFields or (name, type)
    pairs). Naive timestamps are UTC. Returns the table, after checking its row count.

    The table is dropped and made anew rather than truncated: on the emulator a truncating load
    leaves `Table.modified` unchanged, and a cache keyed on it would serve the old rows."""
    fields = _schema_fields(schema)
    table = _arrow_table(frame, fields)
    reference = bigquery.TableReference.from_string(table_id, default_project=client.project)
    client.create_dataset(
        bigquery.DatasetReference(reference.project, reference.dataset_id), exists_ok=True
    )
    client.delete_table(reference, not_found_ok=True)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    job = client.load_table_from_file(
        buffer, reference,
        job_config=bigquery.LoadJobConfig(
            schema=fields,
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_EMPTY,
        ),
    )
    job.result()
    loaded = client.get_table(reference)
    if job.output_rows != table.num_rows or loaded.num_rows != table.num_rows:
        raise AssertionError(
            f"loaded {job.output_rows} rows ({loaded.num_rows} in the table) into {table_id}, "
            f"expected {table.num_rows}"
        )
    return loaded
