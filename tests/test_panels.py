"""The panel registry: every panel is wired, cached as declared, warmed and listed in the
diagnostics; and every panel shows a user error as it is (through the real Dash dispatch)."""

from __future__ import annotations

import json
import logging

import pytest

from app.config import Config
from app.factory import create_app
from app.response_cache import CACHED_PANELS
from app.warm import default_views
from callbacks.panel import UNEXPECTED
from callbacks.registry import PANELS, TABS, panels_of_tab
from callbacks.url_state import url_controls
from layouts import ids
from queries.backends import DuckDBBackend
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.dash_requests import CALLBACK_PATH, MATCHES, call, request_body
from tests.test_experiments_sql import assignments_table

# Controls that make each panel draw (the others' defaults do).
DRAWABLE = {
    "experiment": {"experiment": "checkout"},
    "funnel": {"steps": ["session", "purchase"], "window_days": 7},
}
ASSIGNMENTS = [
    ("checkout", "u1", "control", "2024-01-01 08:00:00"),
    ("checkout", "u2", "treatment", "2024-01-01 08:00:00"),
]


@pytest.fixture
def database(make_db):
    return make_db(ROWS, segment_columns=("platform",),
                   assignments=assignments_table(ASSIGNMENTS))


@pytest.fixture
def app(database, tmp_path):
    return create_app(Config(duckdb_path=database, cache_dir=tmp_path / "cache"))


def first_output(callback: dict) -> str:
    outputs = callback["output"]
    return (outputs[0] if isinstance(outputs, list) else outputs).component_id


def panel_values(panel, **controls) -> dict:
    """A request's values: the panel's default request, the filter bar and its controls."""
    values = {f"{ids.GRAIN}.value": "week"}
    for name, value in controls.items():
        component, prop = panel.controls.get(name) or panel.state[name]
        values[f"{component}.{prop}"] = value
    return values


def status_output(panel) -> str:
    return f"{panel.status}.children"


def request_id_text(panel) -> str:
    """A dict id as Dash writes it in the callback map."""
    return json.dumps(panel.request_id, sort_keys=True, separators=(",", ":"))


def ask_panel(client, app, panel, **controls) -> tuple[int, dict, str]:
    """(status code, answer by component, X-Response-Cache) for one panel request."""
    body = request_body(app, status_output(panel), panel_values(panel, **controls),
                        matches=MATCHES)
    response = client.post(CALLBACK_PATH, json=body)
    answer = response.get_json()["response"] if response.status_code == 200 else {}
    return response.status_code, answer, response.headers.get("X-Response-Cache", "")


def test_every_panel_has_one_callback_with_its_named_outputs_in_order(app):
    by_first_output = {first_output(callback): callback
                       for callback in app.callback_map.values()
                       if isinstance(callback["output"], list)}
    for panel in PANELS:
        callback = by_first_output[panel.status]
        outputs = [(output.component_id, output.component_property)
                   for output in callback["output"]]
        assert outputs == list(panel.named_outputs.values()), panel.name
        assert callback["inputs"] == [{"id": request_id_text(panel), "property": "data"}]


def test_each_panel_is_on_a_tab_and_in_the_page(app):
    assert {panel.tab for panel in PANELS} <= {tab for tab, _ in TABS}
    with app.server.test_request_context():
        page = str(app.layout())
    for panel in PANELS:
        assert repr(panel.status) in page, panel.name


def test_the_response_cache_serves_exactly_the_panels_declared_cacheable(app):
    assert {panel.status for panel in PANELS if panel.cacheable} == CACHED_PANELS
    client = app.server.test_client()
    for panel in PANELS:
        first = ask_panel(client, app, panel, **DRAWABLE.get(panel.name, {}))
        second = ask_panel(client, app, panel, **DRAWABLE.get(panel.name, {}))
        assert first[0] == second[0] == 200, panel.name
        assert (first[2], second[2]) == (("miss", "hit") if panel.cacheable else ("", ""))
        assert second[1] == first[1]


def test_warm_up_draws_every_panel_the_first_page_open_draws(database):
    names = [name for name, _ in default_views(DuckDBBackend(database), Config())]
    # The experiment panel draws nothing until an experiment is chosen, and the page opens
    # with the first one (checkout) chosen.
    assert names == [panel.name for panel in PANELS]
    for name, run in default_views(DuckDBBackend(database), Config()):
        # ROWS hold no page_view or add_to_cart: the funnel's default steps are [purchase]
        # alone, which the page answers with a notice and no query.
        assert run() is None if name == "funnel" else isinstance(run(), dict)


def test_every_panel_is_listed_in_the_diagnostics_of_its_tab(app):
    client = app.server.test_client()
    client.get("/")  # the diagnostics' session cookie
    for panel in PANELS:
        ask_panel(client, app, panel, **DRAWABLE.get(panel.name, {}))
    for tab, _ in TABS:
        answer = call(client, app, f"{ids.DIAGNOSTICS_GRID}.rowData",
                      {f"{ids.DIAGNOSTICS_REQUEST}.data": {"tab": tab, "at": 1}},
                      changed=[f"{ids.DIAGNOSTICS_REQUEST}.data"])
        listed = {row["panel"] for row in answer[ids.DIAGNOSTICS_GRID]["rowData"]}
        assert listed == {panel.label for panel in panels_of_tab(tab)}, tab


def test_links_carry_every_control_of_every_panel():
    controls = url_controls(PANELS)
    for panel in PANELS:
        carried = {field.control for field in panel.url_fields}
        assert carried == set(panel.controls), panel.name
        for field in panel.url_fields:
            assert controls[field.key] == panel.controls[field.control]


# ---- user errors, shown as they are ----


def test_an_unknown_control_is_said_in_the_experiment_panel_without_a_traceback(app, caplog):
    client = app.server.test_client()
    with caplog.at_level(logging.ERROR):
        status, answer, _ = ask_panel(client, app, panel_named("experiment"),
                                      experiment="checkout", control="nope")
    assert status == 200
    alerts = str(answer[ids.EXPERIMENT_ALERTS]["children"])
    # The default control is used instead, and the panel says so.
    assert "control 'nope' is not a variant: choose one of control, treatment" in alerts
    assert "showing control as control" in alerts
    assert "Verdict" in str(answer[ids.EXPERIMENT_VERDICT]["children"])
    assert UNEXPECTED not in alerts
    assert not [record for record in caplog.records if record.exc_info]


def test_a_range_without_users_is_said_in_the_experiment_panel(app, caplog):
    client = app.server.test_client()
    values = panel_values(panel_named("experiment"), experiment="checkout")
    values |= {f"{ids.DATE_RANGE}.start_date": "2030-01-01", f"{ids.DATE_RANGE}.end_date":
               "2030-01-31"}
    with caplog.at_level(logging.ERROR):
        answer = call(client, app, f"{ids.EXPERIMENT_ALERTS}.children", values, matches=MATCHES)
    alerts = str(answer[ids.EXPERIMENT_ALERTS]["children"])
    assert "has no users in this date range and segment" in alerts and UNEXPECTED not in alerts
    assert not [record for record in caplog.records if record.exc_info]


@pytest.mark.parametrize("dates", [
    {"start_date": "2024-02-01", "end_date": "2024-01-01"},  # "The start date (...) is after"
    {"start_date": "soon"},  # "Start date 'soon' is not a date"
    {"end_date": "later"},
])
def test_a_filter_bar_the_page_refuses_leaves_every_panel_as_it_was(app, dates):
    client = app.server.test_client()
    for panel in PANELS:
        values = panel_values(panel, **DRAWABLE.get(panel.name, {}))
        values |= {f"{ids.DATE_RANGE}.{prop}": value for prop, value in dates.items()}
        body = request_body(app, status_output(panel), values, matches=MATCHES)
        response = client.post(CALLBACK_PATH, json=body)
        assert response.status_code in (200, 204), panel.name
        changed = response.get_json()["response"] if response.status_code == 200 else {}
        assert changed == {}, panel.name  # every output no_update


def panel_named(name: str):
    return next(panel for panel in PANELS if panel.name == name)


def test_the_experiment_panel_tests_other_metrics_with_its_own_table(app, caplog):
    client = app.server.test_client()
    with caplog.at_level(logging.ERROR):
        status, answer, _ = ask_panel(
            client, app, panel_named("experiment"), experiment="checkout",
            metric="revenue_per_user", cuped=True, pre_days=7, sequential=True,
            breakdown="platform", guardrail="orders_per_user")
    assert status == 200 and not [record for record in caplog.records if record.exc_info]
    columns = [column["field"] for column in answer[ids.EXPERIMENT_GRID]["columnDefs"]]
    assert columns[:2] == ["segment", "variant"] and "variance_reduction" in columns
    assert "users so far" in str(answer[ids.EXPERIMENT_HEADER]["children"])
    # One user per variant: no variance, so no verdict, and no traceback either.
    assert UNEXPECTED not in str(answer[ids.EXPERIMENT_ALERTS]["children"])
    assert "Guardrail" in str(answer[ids.EXPERIMENT_ALERTS]["children"])
