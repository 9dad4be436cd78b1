"""`python -m app ask` as a real subprocess: the answer, then its numbers and the SQL used."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.ask_expected import cohort_retained, demo_database, monthly_growth, raw_events
from tests.cli import assert_one_line_error, ok, run_all, run_cli
from tests.scripted_model import ScriptedModel, reply, sql_call

NO_MODEL = {"OPENAI_API_KEY": ""}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_database(tmp_path_factory.mktemp("ask-cli"), users=800)


def test_offline_answers_print_numbers_and_sql(demo_db):
    events = raw_events(demo_db)
    size, retained = cohort_retained(events, pd.Period("2025-03", "M"), pd.Period("2025-06", "M"))
    growth = monthly_growth(events)
    april = growth.loc[pd.Period("2025-04", "M")]
    results = run_all({
        "cohort": ["ask", "How many users were retained after 3 months from the March cohort?",
                   "--db", demo_db, NO_MODEL],
        "compare": ["ask", "Compare new users vs resurrected users in April.", "--grain", "day",
                    "--db", demo_db, NO_MODEL],
    })
    lines = ok(results["cohort"]).splitlines()
    assert lines[0] == (
        f"Of the {size:,} users whose first active month was March 2025, {retained:,}"
        f" ({retained / size:.1%}) were active 3 months later, in June 2025."
    )
    assert lines[1].startswith("Note: June 2025 is still in progress")
    numbers = lines.index("Numbers:")
    assert lines[numbers + 1].split() == ["cohort_start", "cohort_size", "period_index",
                                          "retained_users", "retention_rate", "is_complete"]
    assert lines[numbers + 5].split()[:4] == ["2025-03-01", str(size), "3", str(retained)]
    output = "\n".join(lines)
    assert "SQL 1:" in output and "-- query: retention" in output

    compare = ok(results["compare"])
    assert compare.startswith(
        f"In April 2025: new users {april['new']:,}, resurrected users {april['resurrected']:,}"
    )


def test_with_a_key_the_model_answers_through_checked_sql(demo_db):
    with ScriptedModel() as model:
        model.play(
            sql_call("DROP TABLE events"),
            sql_call("select count(*) as periods from growth_month"),
            reply("Months of data:\n- There are some months."),
        )
        result = run_cli("ask", "How many months of data?", "--db", demo_db, env_extra={
            "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url,
            "OPENAI_MODEL": "scripted",
        })
        refusal = model.tool_results(1)[0]
        counted = json.loads(model.tool_results(2)[-1])
    months = len(monthly_growth(raw_events(demo_db)))
    assert refusal.startswith("refused: only a SELECT is allowed")
    assert counted["rows"] == [[months]]
    lines = ok(result).splitlines()
    assert lines[:3] == ["Months of data:", "- There are some months.",
                         f"Note: Refused SQL ({refusal.removeprefix('refused: ')}):"
                         " DROP TABLE events"]
    assert "SQL 1:" in lines and "select count(*) as periods from growth_month" in lines
    assert [line.strip() for line in lines[lines.index("Numbers:") + 1:][:2]] == [
        "periods", str(months)]


def test_a_models_escape_sequences_never_reach_the_terminal(demo_db):
    with ScriptedModel() as model:
        model.play(reply("\x1b[31mRevenue\x1b[0m rose\x1b]0;owned\x07.\x07\n- \x1b[2Jfine\r"))
        result = run_cli("ask", "How is revenue?", "--db", demo_db, env_extra={
            "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url,
            "OPENAI_MODEL": "scripted",
        })
    shown = ok(result)
    assert shown.splitlines()[:2] == ["Revenue rose.", "- fine"]
    assert not any(ord(character) < 32 and character not in "\n\t" for character in shown)


def test_errors_are_one_line(tmp_path):
    results = run_all({
        "missing": ["ask", "What month had the highest churn rate?", "--db",
                    tmp_path / "none.duckdb", NO_MODEL],
        "grain": ["ask", "anything", "--grain", "year", NO_MODEL],
    })
    assert_one_line_error(results["missing"], "no database at", by_argparse=False)
    assert_one_line_error(results["grain"], "--grain", by_argparse=True)
