"""The model path with the real openai client against a scripted OpenAI-compatible server on
loopback (tests/scripted_model.py): tool-call round trips, bad arguments, a timeout, and hostile
SQL that must be refused without touching the database."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace

import pandas as pd
import pytest

from app.cli import script_backend
from app.config import Config
from queries.ask import AskContext, ask
from queries.growth import GrowthQuery
from queries.periods import Grain
from tests.ask_expected import DATA_END, demo_database, monthly_growth, raw_events
from tests.scripted_model import ScriptedModel, raw, reply, sql_call, tool_calls

KEY = "sk-test-never-in-the-browser"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_database(tmp_path_factory.mktemp("ask-model"), users=800)


@pytest.fixture(scope="module")
def model():
    with ScriptedModel() as server:
        yield server


@pytest.fixture
def config(demo_db, model, tmp_path):
    return Config(
        duckdb_path=demo_db, cache_dir=tmp_path / "cache", background_dir=tmp_path / "jobs",
        openai_api_key=KEY, openai_base_url=model.base_url, openai_model="scripted",
        openai_timeout_seconds=5,
    )


def ask_model(question: str, config: Config, grain: Grain = Grain.MONTH):
    context = AskContext(script_backend(config), GrowthQuery(grain))
    return ask(question, context, config)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tool_call_round_trip(model, config, demo_db):
    expected = monthly_growth(raw_events(demo_db))["new"]
    sql = "select period_start, new_users from growth_month order by period_start"
    model.play(sql_call(sql), reply("New users by month:\n- Growth is steady.\n- Second point."))

    answer = ask_model("How many new users per month?", config)

    first, second = model.requests
    assert first["model"] == "scripted"
    assert [tool["function"]["name"] for tool in first["tools"]] == ["run_sql"]
    system = first["messages"][0]["content"]
    assert "growth_month" in system and "churn_rate" in system and "events" in system
    assert first["messages"][1] == {"role": "user", "content": "How many new users per month?"}
    # The tool's result went back to the model, answering the call it made.
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_0"
    result = json.loads(tool_message["content"])
    assert result["columns"] == ["period_start", "new_users"]
    assert [row[1] for row in result["rows"]] == list(expected)
    assert pd.Period(result["rows"][0][0][:7], "M") == expected.index[0]

    assert answer.source == "model" and not answer.refused
    assert answer.text == "New users by month:"
    assert answer.bullets == ("Growth is steady.", "Second point.")
    assert list(answer.numbers["new_users"]) == list(expected)
    assert answer.sql[0] == sql
    assert any("-- query: growth" in text for text in answer.sql[1:])  # what built the table
    assert model.headers[0]["authorization"] == f"Bearer {KEY}"


def test_raw_events_are_queryable_with_an_aggregate(model, config, demo_db):
    model.play(sql_call("select count(distinct user_id) as users from events"), reply("- done"))
    answer = ask_model("How many users are there?", config)
    assert json.loads(model.tool_results(1)[0])["rows"] == [[raw_events(demo_db)["user_id"]
                                                            .nunique()]]
    assert answer.numbers["users"].iloc[0] == raw_events(demo_db)["user_id"].nunique()


def test_malformed_tool_arguments_are_answered_with_an_error(model, config, demo_db):
    weeks = pd.period_range(raw_events(demo_db)["event_time"].min(), DATA_END, freq="W-SUN")
    model.play(
        tool_calls("{not json"),
        tool_calls(json.dumps({"query": "select 1"})),
        sql_call("select count(*) as weeks from growth_week"),
        reply("- There are that many weeks."),
    )
    answer = ask_model("How many weeks of data?", config)
    assert model.tool_results(1) == ['error: the arguments must be JSON like {"sql": "select ..."}']
    assert model.tool_results(2)[-1].startswith("error: the arguments must be JSON")
    assert json.loads(model.tool_results(3)[-1])["rows"] == [[len(weeks)]]
    assert answer.bullets == ("There are that many weeks.",)
    assert answer.numbers["weeks"].iloc[0] == len(weeks)


def test_a_sql_error_goes_back_to_the_model(model, config):
    model.play(sql_call("select no_such_column from growth_week"), reply("- sorry"))
    ask_model("Anything?", config)
    assert model.tool_results(1)[0].startswith("error: Binder Error")


def test_timeout_falls_back_to_the_built_in_analyst(model, config, demo_db):
    growth = monthly_growth(raw_events(demo_db))
    complete = growth[growth["complete"] & growth["previous_active"].gt(0)]
    month = (complete["churned"] / complete["previous_active"]).idxmax()
    model.play(3.0)  # the server answers after 3 s; the client waits 0.5 s

    answer = ask_model("What month had the highest churn rate?",
                       replace(config, openai_timeout_seconds=0.5))

    assert answer.source == "analyst"
    assert answer.notes[0] == (
        "The model did not answer within 0.5 s. The built-in analyst answered instead."
    )
    assert answer.text.startswith(f"{month:%B %Y} had the highest churn rate")


@pytest.mark.parametrize(("step", "why"), [
    (raw(json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                     "choices": []}).encode()), "empty choices"),
    (raw(b"<html><body>Gateway says hello</body></html>", "text/html"), "an HTML page"),
    (raw(b"<html>oops</html>"), "HTML labelled as JSON"),
])
def test_an_unreadable_reply_falls_back_to_the_built_in_analyst(model, config, step, why):
    model.play(step)
    answer = ask_model("What month had the highest churn rate?", config)
    assert answer.source == "analyst", why
    assert answer.notes[0].endswith("The built-in analyst answered instead."), why
    assert "had the highest churn rate" in answer.text


def test_one_question_has_an_overall_time_budget(model, config):
    # Each reply takes 0.8 s and asks for another query: without a budget, six rounds (5 s).
    slow_query = sql_call("select count(*) as weeks from growth_week") | {"delay": 0.8}
    model.play(*[slow_query] * 6)
    started = time.perf_counter()
    answer = ask_model("How many weeks?", replace(config, openai_question_seconds=1.5,
                                                   openai_timeout_seconds=5))
    assert time.perf_counter() - started < 2.5
    assert answer.text == "The model did not finish within 1.5 s."
    assert answer.numbers["weeks"].iloc[0] > 0  # what it found so far stays


HOSTILE = {
    "drop": ("DROP TABLE events", "only a SELECT is allowed, not DROP"),
    "insert": ("INSERT INTO events (user_id) VALUES ('x')", "not INSERT"),
    "update": ("UPDATE events SET revenue = 0", "not UPDATE"),
    "create": ("CREATE TABLE stolen AS SELECT * FROM events", "not CREATE"),
    "copy": ("COPY events TO '/tmp/stolen.csv'", "not COPY"),
    "attach": ("ATTACH '/tmp/other.duckdb' AS other", "not ATTACH"),
    "pragma": ("PRAGMA database_list", "not PRAGMA"),
    "install": ("INSTALL httpfs", "not INSTALL"),
    "load": ("LOAD httpfs", "not LOAD"),
    "set": ("SET enable_external_access = true", "not SET"),
    "read_csv": ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() is not allowed"),
    "read_text": ("SELECT * FROM read_text('/etc/passwd')", "read_text() is not allowed"),
    "glob": ("SELECT * FROM glob('/etc/*')", "glob() is not allowed"),
    "file_as_table": ("SELECT * FROM '/etc/passwd'", "table '/etc/passwd' is not available"),
    "query_function": ("SELECT * FROM query('DROP TABLE events')", "query() is not allowed"),
    "multiple": ("SELECT 1; DROP TABLE growth_week", "exactly one statement"),
    "disallowed_table": ("SELECT * FROM meta", "table 'meta' is not available"),
    "qualified_table": ("SELECT * FROM store.loads", "use a table name only"),
    "huge_without_limit": ("SELECT * FROM events", "a query without a limit on a huge table"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_sql_is_refused_and_the_database_unchanged(model, config, demo_db, name):
    sql, reason = HOSTILE[name]
    before = sha256(demo_db)
    model.play(sql_call(sql), reply("- I could not run that."))

    answer = ask_model("Do something bad", config)

    refusal = model.tool_results(1)[0]
    assert refusal.startswith("refused: ") and reason in refusal
    assert answer.refused
    assert answer.notes == (f"Refused SQL ({refusal.removeprefix('refused: ')}): {sql}",)
    assert sql not in answer.sql
    assert answer.bullets == ("I could not run that.",)
    assert sha256(demo_db) == before


def test_the_key_never_reaches_the_browser(config):
    from app.factory import create_app

    client = create_app(config).server.test_client()
    pages = ["/", "/_dash-layout", "/_dash-dependencies", "/_dash-config"]
    for path in pages:
        response = client.get(path)
        assert KEY not in response.get_data(as_text=True), path
    assert KEY not in repr(config)
