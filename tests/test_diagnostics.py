"""The diagnostics panel: the queries behind the current view, per browser, through the real
Dash dispatch (Flask test client), a real DuckDB file and a real flask-caching cache."""

from __future__ import annotations

import socket

import pytest
from flask_caching.backends.simplecache import SimpleCache

from app.config import Config
from app.factory import create_app
from callbacks.diagnostics import ANSWER_CACHE_LABEL, SESSION_COOKIE
from layouts import ids
from queries.backends import DuckDBBackend
from queries.cache import CachedBackend
from queries.query_log import collecting
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.dash_requests import MATCHES, SEGMENTS, call


@pytest.fixture
def make_app(make_db, tmp_path):
    # The default cache type: a filesystem cache, as shared by gunicorn workers.
    path = make_db(ROWS, segment_columns=("platform",))

    def build(**settings):
        return create_app(Config(duckdb_path=path, cache_dir=tmp_path / "cache", **settings))

    return build


@pytest.fixture
def app(make_app):
    # Whole answers uncached, so a repeated request runs (cached) queries again.
    return make_app(response_cache=False)


def open_page(app):
    """A browser's first visit: the page (which hands out the session id), then its layout."""
    client = app.server.test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    return client, page


def show_growth(client, app, grain="day", platforms=("ios",)) -> dict:
    return call(client, app, f"{ids.GROWTH_STATUS}.children",
                {f"{ids.GRAIN}.value": grain, f"{SEGMENTS}.value": [list(platforms)]},
                changed=[f"{ids.GRAIN}.value"], matches=MATCHES)


def diagnostics(client, app, tab=ids.TAB_GROWTH) -> dict:
    # What assets/panels.js asks for while the card is open.
    answer = call(client, app, f"{ids.DIAGNOSTICS_GRID}.rowData",
                  {f"{ids.DIAGNOSTICS_REQUEST}.data": {"tab": tab, "at": 1}},
                  changed=[f"{ids.DIAGNOSTICS_REQUEST}.data"])
    return {
        "rows": answer[ids.DIAGNOSTICS_GRID]["rowData"],
        "sql": str(answer[ids.DIAGNOSTICS_SQL]["children"]),
        "note": str(answer[ids.DIAGNOSTICS_NOTE]["children"]),
    }


def listed(rows) -> list[tuple]:
    return [tuple(row.get(key) for key in ("panel", "label", "backend", "rows", "cache"))
            for row in rows]


def test_growth_queries_are_listed_first_missing_then_hitting_the_cache(app):
    client, _ = open_page(app)
    growth = show_growth(client, app)
    # By hand: iOS activity on 9 and 10 January 2024, so two daily periods.
    assert [row["period_start"] for row in growth[ids.GROWTH_GRID]["rowData"]] == [
        "2024-01-09", "2024-01-10"]

    first = diagnostics(client, app)
    # The page load already read the data bounds; the daily iOS growth query is new.
    assert listed(first["rows"]) == [
        ("Growth", "data_bounds", "duckdb", 1, "hit"),
        ("Growth", "growth", "duckdb", 2, "miss"),
    ]
    assert all(row["milliseconds"] >= 0 for row in first["rows"])
    assert "sql" not in first["rows"][0]  # the SQL is folded below the grid, not in it
    assert "-- query: growth" in first["sql"] and "ios" in first["sql"]

    show_growth(client, app)
    again = diagnostics(client, app)
    assert listed(again["rows"]) == [
        ("Growth", "data_bounds", "duckdb", 1, "hit"),
        ("Growth", "growth", "duckdb", 2, "hit"),
    ]


def test_an_answer_from_the_response_cache_is_shown_as_such(make_app):
    app = make_app(response_cache=True)
    client, _ = open_page(app)
    show_growth(client, app)
    assert [row["label"] for row in diagnostics(client, app)["rows"]] == ["data_bounds", "growth"]
    show_growth(client, app)  # the same request: answered whole, no query runs
    assert listed(diagnostics(client, app)["rows"]) == [
        ("Growth", ANSWER_CACHE_LABEL, "duckdb", None, "hit")]


def test_each_tab_lists_its_own_panels(app):
    client, _ = open_page(app)
    show_growth(client, app, grain="week", platforms=())
    assert diagnostics(client, app, ids.TAB_GROWTH)["rows"]
    retention = diagnostics(client, app, ids.TAB_RETENTION)
    assert retention["rows"] == [] and "No queries recorded" in retention["note"]


def test_a_browser_sees_only_its_own_queries(app):
    client, page = open_page(app)
    other, other_page = open_page(app)
    mine = page.headers["Set-Cookie"]
    assert f"{SESSION_COOKIE}=" in mine and "HttpOnly" in mine and "SameSite=Lax" in mine
    assert mine != other_page.headers["Set-Cookie"]  # a random id per browser

    show_growth(client, app, platforms=("web",))
    assert diagnostics(client, app)["rows"]
    theirs = diagnostics(other, app)
    assert theirs["rows"] == [] and "web" not in theirs["sql"]
    assert "No queries recorded" in theirs["note"]


def test_without_a_session_cookie_nothing_is_kept_or_shown(app):
    client = app.server.test_client(use_cookies=False)
    assert client.get("/_dash-layout").status_code == 200
    show_growth(client, app)
    assert "need cookies" in diagnostics(client, app)["note"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_page_works_without_the_cache_and_says_diagnostics_are_unavailable(make_db, tmp_path):
    # A Redis URL where nothing listens: every cache call fails, as in an outage.
    config = Config(duckdb_path=make_db(ROWS, segment_columns=("platform",)),
                    cache_type="RedisCache", redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    app = create_app(config)
    client, _ = open_page(app)
    growth = show_growth(client, app)
    assert len(growth[ids.GROWTH_GRID]["rowData"]) == 2
    shown = diagnostics(client, app)
    assert shown["rows"] == [] and "unavailable" in shown["note"]


def test_nested_collecting_blocks_each_get_the_queries(make_db):
    backend = CachedBackend(DuckDBBackend(make_db(ROWS, ("platform",))), SimpleCache())
    with collecting() as outer:
        backend.run("-- query: first\nselect 1 as n", {})
        with collecting() as inner:
            backend.run("-- query: second\nselect 2 as n", {})
    assert [entry.label for entry in outer] == ["first", "second"]
    assert [entry.label for entry in inner] == ["second"]
