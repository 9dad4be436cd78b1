"""Lists and bodies from the browser are bounded: a crafted request gets a clear message (or a
413), fast, and the app keeps serving (#15, item 3; through the real Dash dispatch)."""

from __future__ import annotations

import json
import time

import pytest

from app.config import Config
from app.factory import create_app
from callbacks.chat import MAX_TURNS
from callbacks.retention import MAX_OVERLAY_COHORTS
from callbacks.url_state import MAX_SEARCH_LENGTH, Choices, ViewState, from_search
from callbacks.view_state import MAX_CHOSEN_VALUES, view_from_filter_bar
from layouts import ids
from queries.ask import Answer
from queries.errors import ParameterError
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.dash_requests import CALLBACK_PATH, MATCHES, SEGMENTS, call, request_body


@pytest.fixture
def app(make_db, tmp_path):
    path = make_db(ROWS, segment_columns=("platform",))
    return create_app(Config(duckdb_path=path, cache_dir=tmp_path / "cache",
                             max_request_bytes=256 * 1024))


def text_of(answer: dict, component: str) -> str:
    return json.dumps(answer[component]["children"])


def test_ten_thousand_overlay_cohorts_get_a_message_at_once(app):
    client = app.server.test_client()
    cohorts = [f"2024-01-{day % 28 + 1:02d}" for day in range(10_000)]
    started = time.perf_counter()
    answer = call(client, app, f"{ids.RETENTION_STATUS}.children",
                  {f"{ids.GRAIN}.value": "week", f"{ids.RETENTION_OVERLAY}.value": cohorts},
                  matches=MATCHES)
    assert time.perf_counter() - started < 5
    assert (f"choose at most {MAX_OVERLAY_COHORTS} cohorts to overlay, not 10,000"
            in text_of(answer, ids.RETENTION_STATUS))


def test_a_segment_filter_with_too_many_values_is_said_in_the_panel(app):
    client = app.server.test_client()
    values = [f"v{n}" for n in range(MAX_CHOSEN_VALUES + 1)]
    answer = call(client, app, f"{ids.GROWTH_STATUS}.children",
                  {f"{ids.GRAIN}.value": "week", f"{SEGMENTS}.value": [values]},
                  matches=MATCHES)
    assert (f"choose at most {MAX_CHOSEN_VALUES} platform values, not 101"
            in text_of(answer, ids.GROWTH_STATUS))


@pytest.mark.parametrize(("values", "words"), [
    ({"activity": "purchase"}, "activity events must be a list of values"),
    ({"activity": [["nested"]]}, "activity events must be a list of values"),
    ({"segment_values": [["ios"]], "segment_ids": []}, "do not match"),
    ({"segment_values": [["ios"]], "segment_ids": ["platform"]}, "names no column"),
    ({"segment_values": [[]] * 51,
      "segment_ids": [{"column": f"c{n}", "type": "segment-filter"} for n in range(51)]},
     "at most 50 segment filters, not 51"),
])
def test_malformed_filter_values_are_refused_with_a_message(values, words):
    with pytest.raises(ParameterError, match=words):
        view_from_filter_bar({"grain": "week"} | values)


def test_too_many_funnel_steps_are_said_in_the_funnel(app):
    client = app.server.test_client()
    answer = call(client, app, f"{ids.FUNNEL_STATUS}.children",
                  {f"{ids.GRAIN}.value": "week", f"{ids.FUNNEL_STEPS}.value": ["purchase"] * 5000,
                   f"{ids.FUNNEL_WINDOW_DAYS}.value": 7}, matches=MATCHES)
    assert "choose at most 10 funnel steps, not 5,000" in text_of(answer, ids.FUNNEL_STATUS)


def test_a_body_over_the_limit_is_refused_unread_and_the_app_keeps_serving(app):
    client = app.server.test_client()
    body = request_body(app, f"{ids.GROWTH_STATUS}.children", {f"{ids.GRAIN}.value": "week"},
                        matches=MATCHES)
    padded = dict(body, padding="x" * (300 * 1024))
    assert client.post(CALLBACK_PATH, json=padded).status_code == 413
    assert client.post(CALLBACK_PATH, json=body).status_code == 200


def test_a_long_conversation_keeps_its_latest_turns(app):
    turns = [{"question": f"q{n}", "answer": Answer(f"a{n}").to_dict()} for n in range(500)]
    client = app.server.test_client()
    answer = call(client, app, f"{ids.CHAT_CONVERSATION}.children",
                  {f"{ids.CHAT_HISTORY}.data": turns})
    shown = json.dumps(answer[ids.CHAT_CONVERSATION]["children"])
    assert f'"q{500 - MAX_TURNS}"' in shown and f'"q{499 - MAX_TURNS}"' not in shown


def test_an_overlong_link_falls_back_to_the_default_view_with_a_message():
    defaults = ViewState(tab="growth", grain="week")
    state, problems = from_search("?grain=month&" + "x=1&" * MAX_SEARCH_LENGTH, defaults,
                                  Choices())
    assert state == defaults
    assert problems == [f"The link cannot be read (longer than {MAX_SEARCH_LENGTH:,}"
                        " characters); showing the default view."]
    state, problems = from_search("?" + "&".join(["tab=growth"] * 300), defaults, Choices())
    assert state == defaults and "cannot be read" in problems[0]
