"""The errors BigQuery users meet reach them as one clear line, through the real client.

A small HTTP server on loopback answers the client's job requests the way BigQuery does when
access is denied, the bytes limit is hit or a query is slow.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.config import Config
from queries.backends import BackendError
from queries.bigquery import BigQueryBackend, BigQuerySettings
from tests.cli import run_cli

ACCESS_DENIED = (403, {"error": {
    "code": 403,
    "message": "Access Denied: Project my-project: User does not have bigquery.jobs.create "
               "permission in project my-project.",
    "errors": [{"reason": "accessDenied", "message": "Access Denied", "domain": "global"}],
    "status": "PERMISSION_DENIED",
}})
BYTES_LIMIT = (400, {"error": {
    "code": 400,
    "message": "Query exceeded limit for bytes billed: 1000. 10485760 or higher required.",
    "errors": [{"reason": "bytesBilledLimitExceeded", "message": "Query exceeded limit",
                "domain": "global"}],
    "status": "INVALID_ARGUMENT",
}})
NOT_FOUND = (404, {"error": {
    "code": 404,
    "message": "Not found: Dataset my-project:analytics was not found in location US",
    "errors": [{"reason": "notFound", "message": "Not found", "domain": "global"}],
    "status": "NOT_FOUND",
}})


class ScriptedBigQuery(BaseHTTPRequestHandler):
    answer: tuple[int, dict] = ACCESS_DENIED
    delay_seconds = 0.0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.delay_seconds)
        status, body = self.answer
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted_server():
    servers = []

    def start(answer, delay_seconds=0.0) -> str:
        handler = type("Handler", (ScriptedBigQuery,), {
            "answer": answer, "delay_seconds": delay_seconds,
        })
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def backend_at(endpoint: str, **settings) -> BigQueryBackend:
    return BigQueryBackend(BigQuerySettings(
        project="my-project", dataset="analytics", api_endpoint=endpoint, **settings
    ))


@pytest.mark.parametrize(("answer", "expected"), [
    (ACCESS_DENIED, "permission denied by BigQuery (Access Denied: Project my-project"),
    (BYTES_LIMIT, "would process more than 1,000 bytes (BQ_MAXIMUM_BYTES_BILLED)"),
    (NOT_FOUND, "could not find a table or dataset (Not found: Dataset my-project:analytics"),
])
def test_job_errors_become_one_clear_message(scripted_server, answer, expected):
    backend = backend_at(scripted_server(answer), maximum_bytes_billed=1000)
    with pytest.raises(BackendError) as raised:
        backend.run("select 1 as x", {})
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_slow_query_gives_up_after_the_configured_timeout(scripted_server):
    backend = backend_at(scripted_server(ACCESS_DENIED, delay_seconds=5), timeout_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"did not answer within 0.5 s"):
        backend.run("select 1 as x", {})
    assert time.monotonic() - started < 4


def test_no_credentials_is_one_line_on_the_command_line(tmp_path):
    env = {
        "BACKEND": "bigquery", "BQ_PROJECT": "my-project", "BQ_DATASET": "analytics",
        # No key file, no gcloud configuration, and no metadata server to ask.
        "GOOGLE_APPLICATION_CREDENTIALS": "", "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"), "GCE_METADATA_HOST": "127.0.0.1:9",
        "GCE_METADATA_IP": "127.0.0.1:9", "NO_GCE_CHECK": "True",
    }
    result = run_cli("export", "growth", env_extra=env)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: no Google credentials found")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"BACKEND": "postgres"}, "BACKEND must be one of duckdb, bigquery"),
    ({"BACKEND": "bigquery"}, "BQ_PROJECT '' is not a valid project id"),
    ({"BACKEND": "bigquery", "BQ_PROJECT": "my-project"}, "table 'events' needs BQ_DATASET"),
    ({"BACKEND": "bigquery", "BQ_PROJECT": "my-project", "BQ_DATASET": "a; drop table x"},
     "is not a valid BigQuery name"),
    ({"BACKEND": "bigquery", "BQ_PROJECT": "my-project", "BQ_DATASET": "analytics",
      "BQ_EVENTS_COLUMNS": "event_time=created_at`"}, "is not of the form app=source"),
    ({"BACKEND": "bigquery", "BQ_PROJECT": "my-project", "BQ_PRESET": "shopify"},
     "unknown BQ_PRESET 'shopify'"),
])
def test_bad_settings_are_refused_with_the_setting_named(env, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Config.from_env(env)


def test_settings_read_from_the_environment():
    config = Config.from_env({
        "BACKEND": "BigQuery", "BQ_PROJECT": "my-project", "BQ_DATASET": "other-proj.analytics",
        "BQ_EVENTS_TABLE": "raw_events", "BQ_EVENTS_COLUMNS": "event_time=created_at, "
        "user_id=customer_id", "BQ_MAXIMUM_BYTES_BILLED": "1000000", "BQ_LOCATION": "EU",
    })
    settings = config.bigquery
    assert config.backend == "bigquery"
    assert settings.events_source().table == "other-proj.analytics.raw_events"
    assert settings.events_columns == {"event_time": "created_at", "user_id": "customer_id"}
    assert (settings.maximum_bytes_billed, settings.location) == (1_000_000, "EU")
    assert Config.from_env({}).backend == "duckdb" and Config.from_env({}).bigquery is None


def test_the_thelook_preset_reads_the_public_dataset():
    backend = BigQueryBackend(BigQuerySettings(project="my-project", preset="thelook_ecommerce"))
    events = backend.relation("events")
    for table in ("events", "users", "orders", "order_items"):
        assert f"`bigquery-public-data.thelook_ecommerce.{table}`" in events
    assert "experiment" in backend.relation("assignments")  # an empty relation, not an error
    assert backend.event_columns() == [
        "event_time", "user_id", "event_type", "revenue", "traffic_source", "browser", "country",
    ]


