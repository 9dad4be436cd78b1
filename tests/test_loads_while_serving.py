"""Loads succeed while the app serves (#15, item 6): real gunicorn (the Procfile's command) with
20 concurrent readers, while `load --replace` and `refresh` write the same database. Every
writer succeeds, no reader sees an error or an internal path, and readers see the new data."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request
from collections import Counter

import pytest

from app.config import Config
from app.factory import create_app
from layouts import ids
from tests.cli import ok, run_cli
from tests.conftest import REPO_ROOT
from tests.dash_requests import CALLBACK_PATH, GROWTH_PATTERNS, request_body

READERS = 20
WRITES = 4  # of each kind
EVENTS = "event_time,user_id,event_type,revenue,platform\n"


def events_csv(day: int, users: int) -> str:
    return EVENTS + "".join(f"2024-01-{day:02d} 10:00:00,u{day}-{n},session,,ios\n"
                            for n in range(users))


@pytest.fixture
def served(tmp_path):
    """(url, database, growth callback body, server log) of gunicorn on a small database."""
    from tests.browser_support import procfile_server  # a plugin: import it late

    database, first = tmp_path / "growth.duckdb", tmp_path / "first.csv"
    first.write_text(events_csv(1, 50))
    ok(run_cli("load", first, "--db", database))
    segments = {'{"column":["ALL"],"type":"segment-filter"}': [ids.segment_filter("platform")]}
    app = create_app(Config(duckdb_path=database, cache_dir=tmp_path / "body-cache"))
    body = request_body(app, f"{ids.GROWTH_STATUS}.children", {f"{ids.GRAIN}.value": "day"},
                        changed=[f"{ids.GRAIN}.value"], matches=segments | GROWTH_PATTERNS)
    settings = {"DUCKDB_PATH": str(database), "CACHE_TYPE": "NullCache",
                "RESPONSE_CACHE": "0", "WARM_CACHE": "0", "WEB_CONCURRENCY": "2",
                "LOG_LEVEL": "WARNING", "CACHE_DIR": str(tmp_path / "cache")}
    log = tmp_path / "gunicorn.log"
    # Nothing cached: every read queries the file the writers replace.
    with procfile_server(settings, log, answers_health) as url:
        yield url.rstrip("/"), database, body, log


def answers_health(url: str) -> bool:
    urllib.request.urlopen(url + "healthz", timeout=2).close()
    return True


def read_growth(url: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(url + CALLBACK_PATH, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def new_users(answer: str) -> int:
    rows = json.loads(answer)["response"][ids.GROWTH_GRID]["rowData"]
    return sum(row["new_users"] for row in rows)


def test_loads_and_refreshes_succeed_while_readers_never_see_an_error(served, tmp_path):
    url, database, body, log = served
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    replacing = tmp_path / "first.csv"
    stop, answers = threading.Event(), []

    def reader():
        while not stop.is_set():
            answers.append(read_growth(url, body))

    readers = [threading.Thread(target=reader) for _ in range(READERS)]
    for thread in readers:
        thread.start()
    results = []
    try:
        time.sleep(1)  # the readers at full speed first
        for write in range(WRITES):
            replacing.write_text(events_csv(1, 50 + write))
            results.append(run_cli("load", replacing, "--replace", "--db", database))
            (incoming / f"events-{write}.csv").write_text(events_csv(2 + write, 10))
            results.append(run_cli("refresh", incoming, "--db", database))
    finally:
        stop.set()
        for thread in readers:
            thread.join()

    assert [result.returncode for result in results] == [0] * (2 * WRITES), [
        result.stderr for result in results if result.returncode]
    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: len(answers)} and len(answers) > 100
    private = (str(database), str(REPO_ROOT), shutil.which("python") or "python", "PID")
    for _, answer in answers:
        assert "could not be loaded" not in answer and "error-card" not in answer
        assert not any(fragment in answer for fragment in private)
    # The last writes are what readers see now: 50 + 3 users of day 1 and 10 for each
    # refreshed day.
    status, latest = read_growth(url, body)
    assert status == 200 and new_users(latest) == 50 + WRITES - 1 + 10 * WRITES
    assert "Traceback" not in log.read_text()
