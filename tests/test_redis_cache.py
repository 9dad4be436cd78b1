"""The shared cache on a real Redis: results are cached there, an outage (Redis stopped, or hung)
leaves pages working uncached with a warning, and caching resumes when Redis is back."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import redis

from app.cache import RedisCacheWithPause
from app.config import Config
from app.factory import create_app
from layouts import ids
from tests.cli import ok, run_cli
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.conftest import REPO_ROOT, require_tool
from tests.dash_requests import CALLBACK_PATH, MATCHES, SEGMENTS, request_body


@contextmanager
def redis_server(port: int):
    executable = require_tool("redis-server", "the cache tests run against a real Redis")
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield process, client
    finally:
        process.send_signal(signal.SIGCONT)  # in case a test left it stopped
        process.terminate()
        process.wait(timeout=10)


def growth(client, app, platforms=None) -> tuple[str, dict]:
    body = request_body(app, f"{ids.GROWTH_STATUS}.children",
                        {f"{ids.GRAIN}.value": "day", f"{SEGMENTS}.value": [platforms]},
                        changed=[f"{ids.GRAIN}.value"], matches=MATCHES)
    response = client.post(CALLBACK_PATH, json=body)
    assert response.status_code == 200
    rows = response.get_json()["response"][ids.GROWTH_GRID]["rowData"]
    return response.headers["X-Query-Cache"], {r["period_start"]: r["active_users"] for r in rows}


def january(first: int, last: int) -> list[str]:
    return [f"2024-01-{day:02d}" for day in range(first, last + 1)]


def health(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    return response.status_code, response.get_json()


@pytest.fixture
def setup(make_db, monkeypatch):
    # Short pause after a failure, so the test need not wait long for the retry.
    monkeypatch.setattr(RedisCacheWithPause, "pause_seconds", 0.5)
    from tests.browser_support import free_port  # a pytest plugin elsewhere: import it late

    port = free_port()
    database = make_db(ROWS, segment_columns=("platform",))
    # Whole answers uncached, so every request shows what the query cache does.
    app = create_app(Config(duckdb_path=database, cache_type="RedisCache",
                            redis_url=f"redis://127.0.0.1:{port}/0", response_cache=False))
    return app, port


def test_pages_survive_redis_going_away_and_caching_resumes(setup, caplog):
    app, port = setup
    client = app.server.test_client()
    # By hand: day by day, active users 1 on 1 January (u1), 1 on 9 January, 1 on 10 January.
    daily = {"2024-01-01": 1, "2024-01-09": 1, "2024-01-10": 1}
    with redis_server(port) as (process, redis_client):
        time.sleep(0.6)  # building the app, before Redis ran, failed once: the pause after that
        assert growth(client, app) == ("miss", {**dict.fromkeys(january(1, 10), 0), **daily})
        assert growth(client, app)[0] == "hit"
        assert redis_client.dbsize() > 0  # the results live in Redis
        assert health(client)[1]["cache"] == {"ok": True, "type": "RedisCache"}
        process.terminate()
        process.wait(timeout=10)

        caplog.set_level(logging.WARNING, logger="queries.cache")
        state, ios_only = growth(client, app, ["ios"])
        assert state == "miss" and sum(ios_only.values()) == 2  # u1 on 9, u2 on 10 January
        assert growth(client, app, ["ios"])[0] == "miss"  # nothing could be cached
        assert client.get("/").status_code == 200
        assert client.get("/_dash-layout").status_code == 200
        status, body = health(client)
        assert status == 200 and body["status"] == "degraded"
        assert body["cache"]["ok"] is False and "uncached" in body["cache"]["note"]
        assert any("cache" in r.getMessage() for r in caplog.records)

    with redis_server(port) as (_, redis_client):
        time.sleep(0.6)  # the pause after the last failure
        assert health(client)[1]["status"] == "ok"
        assert growth(client, app, ["ios"]) == ("miss", ios_only)
        assert growth(client, app, ["ios"]) == ("hit", ios_only)
        assert redis_client.dbsize() > 0


def test_a_hung_redis_costs_a_request_well_under_a_second(setup):
    app, port = setup
    client = app.server.test_client()
    with redis_server(port) as (process, _):
        assert growth(client, app)[0] == "miss"
        process.send_signal(signal.SIGSTOP)  # connections open, but nothing answers
        started = time.perf_counter()
        state, rows = growth(client, app, ["web"])
        elapsed = time.perf_counter() - started
        assert state == "miss" and rows["2024-01-01"] == 1
        # One 0.5 s socket timeout, then the pause skips Redis: not 5 s per cache call.
        assert elapsed < 2.0, elapsed
        started = time.perf_counter()
        assert health(client)[1]["cache"]["ok"] is False
        assert time.perf_counter() - started < 1.0
        process.send_signal(signal.SIGCONT)
        time.sleep(0.6)
        assert growth(client, app, ["web"])[0] == "miss"
        assert growth(client, app, ["web"])[0] == "hit"


def test_the_redis_client_uses_short_timeouts(setup):
    app, _ = setup
    from app.cache import cache

    with app.server.app_context():
        pool = cache.cache._write_client.connection_pool
    assert pool.connection_kwargs["socket_timeout"] <= 1
    assert pool.connection_kwargs["socket_connect_timeout"] <= 1


def test_redis_dying_during_a_load_is_one_warning_not_a_traceback_each(make_db, tmp_path):
    from tests.browser_support import free_port  # a pytest plugin elsewhere: import it late

    port = free_port()
    database = make_db(ROWS, segment_columns=("platform",))
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "DUCKDB_PATH": str(database)}
    more = tmp_path / "more.csv"
    more.write_text("event_time,user_id,event_type\n2024-01-11 09:00:00,u3,session\n")
    with redis_server(port) as (process, _):
        ok(run_cli("warm", env_extra=env))  # the old data's views are warm: a load re-warms
        loading = subprocess.Popen(
            [sys.executable, "-m", "app", "load", str(more)], cwd=REPO_ROOT,
            env=os.environ | env | {"TZ": "UTC"}, stderr=subprocess.PIPE, text=True)
        first = loading.stderr.readline()  # "checking more.csv ...": it found the cache warm
        assert first.startswith("checking"), first
        process.terminate()  # Redis goes away while the load runs
        process.wait(timeout=10)
        stderr = first + loading.communicate(timeout=120)[1]
    assert loading.returncode == 0, stderr
    assert "Traceback" not in stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert 1 <= len(warnings) <= 3, stderr
