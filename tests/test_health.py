"""GET /healthz, the JSON request and query logs, and the X-Query-Cache response header."""

from __future__ import annotations

import json
import logging
import sys
import time

import duckdb
import pytest

from app.config import Config
from app.factory import create_app
from app.logs import JsonFormatter, RateLimit
from app.warm import warm
from layouts import ids
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.dash_requests import CALLBACK_PATH, MATCHES, SEGMENTS, request_body


@pytest.fixture
def database(make_db):
    return make_db(ROWS, segment_columns=("platform",))


def app_for(database, tmp_path, **settings):
    return create_app(Config(duckdb_path=database, cache_dir=tmp_path / "cache", **settings))


def growth_body(app, grain: str = "week") -> dict:
    return request_body(app, f"{ids.GROWTH_STATUS}.children",
                        {f"{ids.GRAIN}.value": grain, f"{SEGMENTS}.value": [None]},
                        changed=[f"{ids.GRAIN}.value"], matches=MATCHES)


def stored_version(database) -> str:
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute("select value from meta where key = 'data_version'").fetchall()
    return rows[0][0]


def test_healthz_reports_the_backend_data_version_cache_and_warm_up(database, tmp_path):
    app = app_for(database, tmp_path)
    client = app.server.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["backend"]["ok"] and body["backend"]["name"] == "duckdb"
    assert body["backend"]["data_version"] == stored_version(database)
    assert body["cache"] == {"ok": True, "type": "FileSystemCache"}
    assert body["warm"] == {"done": False}

    from app.cache import cache
    from app.factory import build_backend

    with app.server.app_context():
        report = warm(build_backend(app.server.config["APP_CONFIG"]), Config(), cache)
    warmed = client.get("/healthz").get_json()["warm"]
    assert warmed["done"] and warmed["data_version"] == stored_version(database)
    # Growth, engagement, retention, revenue, revenue cohorts, funnel: no experiment.
    assert warmed["views"] == report.views == 6


def test_healthz_is_503_when_the_backend_cannot_answer(tmp_path):
    hashed = "pbkdf2:sha256:1000$salt$" + "0" * 64
    app = create_app(Config(duckdb_path=tmp_path / "missing.duckdb", cache_dir=tmp_path / "c",
                            auth_users={"alice": hashed}))
    response = app.server.test_client().get("/healthz")  # open even with sign-in on
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["backend"] == {"ok": False, "name": "duckdb", "error": "NoDataError"}
    assert str(tmp_path) not in response.get_data(as_text=True)  # public: no paths


def test_a_cache_outage_alone_keeps_serving_with_a_warning(database, tmp_path):
    from tests.browser_support import free_port  # a pytest plugin elsewhere: import it late

    nothing_listens = free_port()
    app = app_for(database, tmp_path, cache_type="RedisCache",
                  redis_url=f"redis://127.0.0.1:{nothing_listens}/0")
    client = app.server.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["cache"]["ok"] is False and body["cache"]["type"] == "RedisCache"
    assert "uncached" in body["cache"]["note"]
    assert client.get("/").status_code == 200
    answer = client.post(CALLBACK_PATH, json=growth_body(app))
    assert answer.status_code == 200 and answer.headers["X-Query-Cache"] == "miss"


def request_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "growth.requests"]


def query_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "growth.queries"]


def test_one_log_line_per_request_with_its_queries_and_the_cache_header(database, tmp_path,
                                                                        caplog):
    caplog.set_level(logging.INFO)
    app = app_for(database, tmp_path, response_cache=False)
    client = app.server.test_client()
    caplog.clear()  # building the app read the page's filter options

    first = client.post(CALLBACK_PATH, json=growth_body(app))
    assert first.status_code == 200 and first.headers["X-Query-Cache"] == "miss"
    [line] = request_lines(caplog)
    queries = query_lines(caplog)
    assert queries and all(q["event"] == "query" for q in queries)
    assert line["method"] == "POST" and line["path"] == CALLBACK_PATH and line["status"] == 200
    assert line["queries"] == len(queries)
    assert line["cache_misses"] == sum(not q["cache_hit"] for q in queries) >= 1
    assert line["cache_hits"] == sum(q["cache_hit"] for q in queries)
    assert f"{ids.GROWTH_COMBINED_CHART}.figure" in line["outputs"]
    assert line["query_cache"] == "miss" and line["milliseconds"] > 0

    caplog.clear()
    second = client.post(CALLBACK_PATH, json=growth_body(app))
    assert second.headers["X-Query-Cache"] == "hit"
    [line] = request_lines(caplog)
    assert line["queries"] == len(query_lines(caplog)) >= 1
    assert line["cache_hits"] == line["queries"] and line["cache_misses"] == 0

    caplog.clear()
    # A callback that runs no query: the URL's view state.
    url_state = request_body(app, f"{ids.URL}.search", {f"{ids.GRAIN}.value": "week"},
                             matches=MATCHES)
    assert client.post(CALLBACK_PATH, json=url_state).headers["X-Query-Cache"] == "none"
    page = client.get("/healthz")
    assert "X-Query-Cache" not in page.headers
    assert [(line["path"], line["queries"]) for line in request_lines(caplog)] == [
        (CALLBACK_PATH, 0), ("/healthz", 0)]


def test_a_whole_answer_from_the_response_cache_counts_as_a_hit(database, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    app = app_for(database, tmp_path)
    client = app.server.test_client()
    first = client.post(CALLBACK_PATH, json=growth_body(app, "month"))
    caplog.clear()
    second = client.post(CALLBACK_PATH, json=growth_body(app, "month"))
    assert first.headers["X-Query-Cache"] == "miss" and second.headers["X-Query-Cache"] == "hit"
    assert first.headers["X-Response-Cache"] == "miss"
    assert second.headers["X-Response-Cache"] == "hit"
    assert second.get_data() == first.get_data()
    [line] = request_lines(caplog)
    assert line["queries"] == 0 and query_lines(caplog) == []


def log_record(message: str, level=logging.INFO, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("growth.queries", level, __file__, 1, message, None, exc_info)


def test_log_lines_are_single_json_objects():
    formatter = JsonFormatter()
    query = json.loads(formatter.format(log_record('{"event": "query", "rows": 3}')))
    assert query["event"] == "query" and query["rows"] == 3 and query["level"] == "info"
    assert query["logger"] == "growth.queries" and query["time"].endswith("+00:00")
    plain = json.loads(formatter.format(log_record("Booting worker")))
    assert plain["message"] == "Booting worker"
    try:
        raise ValueError("boom")
    except ValueError:
        failed = formatter.format(log_record("failed", logging.ERROR, sys.exc_info()))
    assert "\n" not in failed
    assert "ValueError: boom" in json.loads(failed)["exception"]


def test_warnings_are_rate_limited_and_count_what_was_suppressed():
    limit = RateLimit(seconds=0.3)
    warnings = [log_record("cache read failed", logging.WARNING) for _ in range(50)]
    passed = [record for record in warnings if limit.filter(record)]
    assert passed == warnings[:1]
    assert limit.filter(log_record("a query", logging.INFO))  # only warnings are limited
    time.sleep(0.35)
    later = log_record("cache read failed", logging.WARNING)
    assert limit.filter(later) and later.suppressed == 49
    assert json.loads(JsonFormatter().format(later))["suppressed_since_last"] == 49


def test_a_cache_that_cannot_start_leaves_the_app_serving_uncached(database, tmp_path):
    # As a full disk would: the filesystem cache cannot create its folder (a file is in the way).
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    app = create_app(Config(duckdb_path=database, cache_dir=blocked / "cache"))
    client = app.server.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["cache"] == {"ok": False, "type": "FileSystemCache",
                             "error": "NotADirectoryError",
                             "note": "the cache could not start: pages are served uncached"}
    answer = client.post(CALLBACK_PATH, json=growth_body(app))
    assert answer.status_code == 200 and answer.headers["X-Query-Cache"] == "miss"
    assert str(blocked) not in response.get_data(as_text=True)
