"""The Dash app without a browser: wiring, cache keys, error cards and CSV safety."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from dash import html

from app.config import Config
from app.csv_export import neutralise, write_csv
from app.factory import create_app
from app.storage import Source, load
from callbacks import growth as growth_panel
from callbacks.panel import PanelContext
from callbacks.panel import answer as panel_answer
from layouts import ids
from queries.backends import BackendError, DuckDBBackend
from queries.cache import CachedBackend
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.conftest import events_table


def component_ids(component) -> list:
    found = []
    if getattr(component, "id", None) is not None:
        found.append(component.id)
    children = getattr(component, "children", None)
    if children is None:
        return found
    for child in children if isinstance(children, (list, tuple)) else [children]:
        found += component_ids(child)
    return found


def id_matches(wanted, present) -> bool:
    if isinstance(wanted, str):
        return wanted == present
    if not isinstance(present, dict):
        return False
    return all(
        present.get(key) is not None if str(value) in ("ALL", "<ALL>", "[\"ALL\"]")
        or isinstance(value, list) else present.get(key) == value
        for key, value in wanted.items()
    )


@pytest.fixture
def app_with_data(make_db, tmp_path):
    path = make_db(ROWS, segment_columns=("platform",))
    config = Config(duckdb_path=path, cache_type="SimpleCache", cache_dir=tmp_path / "cache")
    return create_app(config), path


def test_every_callback_input_and_output_is_in_the_layout(app_with_data):
    app, _ = app_with_data
    with app.server.test_request_context():
        layout = app.layout()
    present = component_ids(layout)
    for callback in app.callback_map.values():
        dependencies = list(callback["inputs"]) + list(callback["state"])
        dependencies += [{"id": o.component_id} for o in callback["output"]] if isinstance(
            callback["output"], list) else []
        for dependency in dependencies:
            wanted = dependency["id"]
            if isinstance(wanted, str) and wanted.startswith("{"):
                import json

                wanted = json.loads(wanted)
            assert any(id_matches(wanted, p) for p in present), f"{wanted} missing from layout"
    assert ids.segment_filter("platform") in present


def test_pages_serve_offline_assets(app_with_data):
    app, _ = app_with_data
    client = app.server.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "/vendor/bootstrap.min.css" in page
    assert "cdn" not in page.lower() and "https://" not in page
    css = client.get("/vendor/bootstrap.min.css")
    assert css.status_code == 200 and b"Bootstrap" in css.data[:300]


def test_a_fresh_worker_serves_its_scripts_to_concurrent_first_requests(make_db, tmp_path):
    # In gunicorn the page can come from one worker and its scripts from another, which has
    # served nothing yet; the browser asks for the scripts at once.
    path = make_db(ROWS, segment_columns=("platform",))
    config = Config(duckdb_path=path, cache_type="SimpleCache", cache_dir=tmp_path / "cache")
    page = create_app(config).server.test_client().get("/").get_data(as_text=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert len(scripts) >= 5
    fresh = create_app(config).server
    with ThreadPoolExecutor(len(scripts)) as pool:
        statuses = list(pool.map(lambda url: fresh.test_client().get(url).status_code, scripts))
    assert statuses == [200] * len(scripts)


def test_cache_is_keyed_by_data_version(tmp_path):
    from flask_caching.backends.simplecache import SimpleCache

    path = tmp_path / "db.duckdb"
    load(path, Source("first", table=events_table(ROWS[:1], ("platform",))))
    backend = CachedBackend(DuckDBBackend(path), SimpleCache())
    count = "select count(*) as n from events"
    assert backend.run(count, {})["n"][0] == 1
    assert backend.run(count, {})["n"][0] == 1  # served from the cache
    load(path, Source("second", table=events_table(ROWS[1:], ("platform",))))
    # A load changes the data version, so the cached answer is not served again.
    assert backend.run(count, {})["n"][0] == 3


def test_cache_outage_runs_uncached(tmp_path):
    class BrokenCache:
        def get(self, key):
            raise ConnectionError("cache down")

        def set(self, key, value, timeout=None):
            raise ConnectionError("cache down")

    path = tmp_path / "db.duckdb"
    load(path, Source("first", table=events_table(ROWS, ("platform",))))
    backend = CachedBackend(DuckDBBackend(path), BrokenCache())
    assert backend.run("select count(*) as n from events", {})["n"][0] == 3


def test_failing_backend_gives_error_card_not_exception():
    class FailingBackend:
        name = "failing"
        dialect = DuckDBBackend.dialect

        def relation(self, table):
            return table

        def run(self, sql, params):
            raise BackendError("permission denied on dataset analytics")

        def event_columns(self):
            return []

    status, kpis, figure, _charts, rows, _ = growth_callbacks_update(FailingBackend())
    assert "permission denied" in str(status)
    assert kpis == ["–"] * 7 and rows == []  # the cards show no value
    assert figure["layout"]["annotations"][0]["text"] == "permission denied on dataset analytics"


def growth_callbacks_update(backend, **inputs):
    """The growth panel's status, KPI card values, combined chart, metric charts, grid rows
    and CSV settings, as its callback gives them."""
    filters = {"grain": "week", "start": None, "end": None, "activity": None,
               "segment_values": [], "segment_ids": []} | inputs
    answer = panel_answer(growth_panel.PANEL, PanelContext(backend, Config()), filters, {})
    return tuple(answer[name] for name in ("status", "kpi_values", "combined", "metric_charts",
                                           "grid_rows", "export"))


def test_start_after_end_leaves_views_alone(make_db):
    backend = DuckDBBackend(make_db(ROWS, segment_columns=("platform",)))
    result = growth_callbacks_update(backend, start="2024-02-01", end="2024-01-01")
    assert all(value is not None and type(value).__name__ == "NoUpdate" for value in result)


def test_empty_range_shows_friendly_state(make_db):
    backend = DuckDBBackend(make_db(ROWS, segment_columns=("platform",)))
    status, *_ = growth_callbacks_update(
        backend, segment_values=[["android"]], segment_ids=[ids.segment_filter("platform")]
    )
    assert "No activity" in str(status)


def test_csv_neutralises_formula_cells_but_not_numbers():
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("+1") == "'+1" and neutralise("-2") == "'-2"
    assert neutralise("web") == "web"
    buffer = io.StringIO()
    frame = pd.DataFrame({
        "segment": ["=cmd|'/c calc'!A1", "ios"], "delta": [-3.5, float("nan")],
        "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "ok": [True, False],
    })
    write_csv(frame, buffer)
    assert buffer.getvalue().splitlines() == [
        "segment,delta,day,ok",
        "'=cmd|'/c calc'!A1,-3.5,2024-01-01,true",
        "ios,,2024-01-02,false",
    ]


def test_csv_quotes_a_bare_carriage_return_so_strict_readers_keep_the_row():
    buffer = io.StringIO()
    write_csv(pd.DataFrame({"segment": ["two\rlines", "ios"], "n": [1, 2]}), buffer)
    assert buffer.getvalue() == 'segment,n\n"two\rlines","1"\nios,2\n'
    assert list(csv.reader(io.StringIO(buffer.getvalue(), newline=""), strict=True)) == [
        ["segment", "n"], ["two\rlines", "1"], ["ios", "2"]]


def test_page_without_data_explains_how_to_load(tmp_path):
    config = Config(duckdb_path=tmp_path / "missing.duckdb", cache_type="SimpleCache")
    app = create_app(config)
    with app.server.test_request_context():
        layout = app.layout()
    text = str(layout)
    assert "python -m app demo" in text
    assert isinstance(layout, html.Div)


def test_quick_ranges_end_on_the_last_day_and_never_start_before_the_first():
    from layouts.page import quick_range_dates

    assert quick_range_dates(7, "2024-01-01", "2024-03-31") == ("2024-03-25", "2024-03-31")
    assert quick_range_dates(90, "2024-03-01", "2024-03-31") == ("2024-03-01", "2024-03-31")
    assert quick_range_dates(0, "2024-01-01", "2024-03-31T00:00:00") == (
        "2024-01-01", "2024-03-31")
