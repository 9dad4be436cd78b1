"""Whole panel answers from the response cache: shared by workers, never stale after a load,
never remembering a failure, and only for the pure panels."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from app.config import Config
from app.factory import create_app
from app.response_cache import CACHED_PANELS, cached_panel
from app.storage import Source, load
from layouts import ids
from tests.conftest import events_table
from tests.dash_requests import CALLBACK_PATH, GROWTH_PATTERNS, request_body

ROWS = [
    ("2024-01-01 09:00:00", "u1", "session"),
    ("2024-01-02 09:00:00", "u2", "session"),
    ("2024-01-02 10:00:00", "u1", "purchase", 5.0),
]
NO_SEGMENTS = {'{"column":["ALL"],"type":"segment-filter"}': []} | GROWTH_PATTERNS


@pytest.fixture
def database(make_db):
    return make_db(ROWS)


def make_app(database, cache_dir):
    return create_app(Config(duckdb_path=database, cache_dir=cache_dir))


def daily_growth(app, client):
    body = request_body(app, f"{ids.GROWTH_STATUS}.children", {f"{ids.GRAIN}.value": "day"},
                        changed=[f"{ids.GRAIN}.value"], matches=NO_SEGMENTS)
    response = client.post(CALLBACK_PATH, json=body)
    assert response.status_code == 200
    answer = response.get_json()["response"]
    rows = answer.get(ids.GROWTH_GRID, {}).get("rowData", [])
    new_users = {row["period_start"]: row["new_users"] for row in rows}
    return response.headers["X-Query-Cache"], new_users, str(answer[ids.GROWTH_STATUS])


def test_workers_share_answers_and_a_load_replaces_them(database, tmp_path):
    first_worker = make_app(database, tmp_path / "cache")
    second_worker = make_app(database, tmp_path / "cache")
    state, new_users, _ = daily_growth(first_worker, first_worker.server.test_client())
    # By hand: u1 is new on 1 January, u2 on 2 January.
    assert (state, new_users) == ("miss", {"2024-01-01": 1, "2024-01-02": 1})
    state, again, _ = daily_growth(second_worker, second_worker.server.test_client())
    assert (state, again) == ("hit", new_users)

    load(database, Source("more", table=events_table([("2024-01-02 11:00:00", "u3", "session")])))
    state, reloaded, _ = daily_growth(second_worker, second_worker.server.test_client())
    assert (state, reloaded) == ("miss", {"2024-01-01": 1, "2024-01-02": 2})


def test_a_failed_answer_is_not_remembered(database, tmp_path):
    app = make_app(database, tmp_path / "cache")
    client = app.server.test_client()
    assert client.get("/healthz").status_code == 200  # reads the data version first
    # A writer holding the database (a load in progress) makes the query fail for a moment.
    writer = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
         " print('locked', flush=True); time.sleep(60)", str(database)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        _, rows, status = daily_growth(app, client)
        assert rows == {} and "could not be loaded" in status
    finally:
        writer.kill()
        writer.wait()
    time.sleep(0.2)
    state, rows, _ = daily_growth(app, client)
    assert state == "miss" and rows == {"2024-01-01": 1, "2024-01-02": 1}


def test_only_the_pure_panels_are_cached():
    assert ids.GROWTH_STATUS in CACHED_PANELS and ids.EXPERIMENT_ALERTS in CACHED_PANELS
    assert cached_panel({"outputs": [{"id": ids.FUNNEL_STATUS, "property": "children"}]})
    assert not cached_panel({"outputs": {"id": ids.FILTER_MESSAGE, "property": "children"}})
    assert not cached_panel({"outputs": [{"id": ids.DIAGNOSTICS_GRID, "property": "rowData"}]})
    assert not cached_panel({"outputs": "growth-status"})


def test_a_control_sent_unset_or_null_shares_one_answer(database, tmp_path):
    app = make_app(database, tmp_path / "cache")
    client = app.server.test_client()
    body = request_body(app, f"{ids.GROWTH_STATUS}.children", {f"{ids.GRAIN}.value": "day"},
                        matches=NO_SEGMENTS)
    activity = next(item for item in body["state"] if item["id"] == ids.ACTIVITY_EVENTS)
    assert activity["value"] is None
    first = client.post(CALLBACK_PATH, json=body)
    del activity["value"]  # how the renderer sends a dropdown nobody has touched yet
    second = client.post(CALLBACK_PATH, json=body)
    assert first.headers["X-Response-Cache"] == "miss"
    assert second.headers["X-Response-Cache"] == "hit"
    assert second.get_json() == first.get_json()
    activity["value"] = ["purchase"]  # a value that is set is part of the key
    assert client.post(CALLBACK_PATH, json=body).headers["X-Response-Cache"] == "miss"
