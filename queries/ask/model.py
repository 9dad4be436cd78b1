"""The model's loop: it sees the metric tables' schema and may call one tool, run_sql.

Every SQL it proposes goes through queries/ask/sql_guard.py and runs in queries/ask/sandbox.py
(or, for the raw events on a warehouse, queries/ask/warehouse.py). A refusal or an error is sent
back as the tool's result, so the model can correct itself, and is listed for the reader too.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace

import openai

from queries import schema
from queries.ask.analyst import AskContext, answer_offline, sql_used
from queries.ask.answer import Answer
from queries.ask.sandbox import ROW_LIMIT, SandboxError, SqlResult, run_sandboxed
from queries.ask.sql_guard import CheckedSQL, RefusedSQL, check_sql
from queries.ask.tables import MetricTables
from queries.ask.warehouse import run_on_warehouse
from queries.backends import BackendError
from queries.query_log import collecting

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 6
DEFAULT_MAX_BYTES = 10**9  # the dry-run cap when the backend's settings give none
RUN_SQL_TOOL = {
    "type": "function",
    "function": {
        "name": "run_sql",
        "description": (
            "Run one read-only DuckDB SELECT over the tables listed in the instructions and get"
            f" back at most {ROW_LIMIT} rows as JSON."
        ),
        "parameters": {
            "type": "object",
            "properties": {"sql": {"type": "string", "description": "a single SELECT"}},
            "required": ["sql"],
            "additionalProperties": False,
        },
    },
}
INSTRUCTIONS = """\
You are a growth analyst answering questions about a product's users from its metric tables.
Use the run_sql tool (DuckDB SQL, one SELECT per call) to get the numbers you need; never guess
numbers. Tables (all already filtered to the reader's view: {view}):
{tables}
Periods: weeks start on Monday; a row with is_complete = false is a period still in progress:
leave it out of highest/lowest comparisons unless asked, and say so.
Answer in 2 to 5 short bullet points starting with "- ", with the key numbers."""


@dataclass
class Conversation:
    """What one question produced: the SQL that ran, the last result, the refusals."""

    ran: list[str] = field(default_factory=list)
    last_result: SqlResult | None = None
    refusals: list[str] = field(default_factory=list)


def answer_with_model(text: str, context: AskContext, config) -> Answer:
    """The model's answer; the built-in analyst's when the model is unavailable."""
    try:
        return ask_model(text, context, config, client_for(config))
    except openai.APITimeoutError:
        reason = f"The model did not answer within {config.openai_timeout_seconds:g} s."
    except openai.APIStatusError as error:
        reason = f"The model service refused the request (HTTP {error.status_code})."
    except openai.APIError as error:
        log.warning("model request failed: %s", type(error).__name__)
        reason = "The model service could not be reached."
    except UnreadableReply as error:
        log.warning("model reply unreadable: %s", error)
        reason = "The model service's reply could not be read."
    fallback = answer_offline(text, context)
    return replace(fallback, notes=(f"{reason} The built-in analyst answered instead.",
                                    *fallback.notes))


def client_for(config) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=config.openai_api_key, base_url=config.openai_base_url,
        timeout=config.openai_timeout_seconds, max_retries=0,
    )


def ask_model(text: str, context: AskContext, config, client: openai.OpenAI) -> Answer:
    tables = MetricTables(
        context.backend, context.view, context.declared,
        events_file=config.duckdb_path if context.backend.name == "duckdb" else None,
        events_on_warehouse=context.backend.supports_dry_run,
    )
    messages = [
        {"role": "system", "content": INSTRUCTIONS.format(
            view=describe_view(context), tables=tables.schema_text())},
        {"role": "user", "content": text},
    ]
    state = Conversation()
    deadline = time.monotonic() + config.openai_question_seconds
    with collecting() as records:
        for _ in range(MAX_TOOL_ROUNDS):
            call_seconds = min(config.openai_timeout_seconds, deadline - time.monotonic())
            try:
                if call_seconds <= 0:
                    raise OutOfTime
                message = complete(client, config.openai_model, messages, call_seconds)
            except (OutOfTime, openai.APITimeoutError):
                if call_seconds >= config.openai_timeout_seconds:
                    raise  # the call's own limit: the built-in analyst answers
                answer = final_answer(
                    f"The model did not finish within {config.openai_question_seconds:g} s.",
                    state, sql_used(records))
                return replace(answer, bullets=())
            if not message.tool_calls:
                return final_answer(message.content or "", state, sql_used(records))
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                result = run_tool(call, tables, state, config)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    answer = final_answer("The model did not finish within"
                          f" {MAX_TOOL_ROUNDS} rounds of queries.", state, sql_used(records))
    return replace(answer, bullets=())


class OutOfTime(Exception):
    """The question's time budget is spent."""


class UnreadableReply(Exception):
    """An answer from the model service that is not a chat completion with a choice."""


def complete(client: openai.OpenAI, model: str, messages: list, seconds: float):
    """The model's next message, waiting at most `seconds`."""
    try:
        response = client.with_options(timeout=seconds).chat.completions.create(
            model=model, messages=messages, tools=[RUN_SQL_TOOL])
    except ValueError as error:  # a body that is not JSON, served as JSON
        raise UnreadableReply(f"not JSON ({error})") from None
    return reply_message(response)


def reply_message(response):
    """The completion's message; a reply without one (no choices, an HTML page answered
    with 200) is UnreadableReply, and the built-in analyst answers instead."""
    choices = getattr(response, "choices", None)
    message = getattr(choices[0], "message", None) if choices else None
    if message is None:
        raise UnreadableReply(f"no message in a {type(response).__name__}")
    return message


def describe_view(context: AskContext) -> str:
    view = context.view
    parts = [f"grain {view.grain.value}",
             f"dates {view.start or 'first day'} to {view.end or 'last day'}"]
    parts += [f"{column} in ({', '.join(values)})" for column, values in view.segment.conditions]
    return "; ".join(parts)


def run_tool(call, tables: MetricTables, state: Conversation, config) -> str:
    """The tool's result as the model reads it: rows as JSON, or why nothing ran."""
    if call.function.name != RUN_SQL_TOOL["function"]["name"]:
        return f"error: there is no tool {call.function.name!r}; use run_sql"
    try:
        sql = json.loads(call.function.arguments or "")["sql"]
        if not isinstance(sql, str):
            raise TypeError
    except (json.JSONDecodeError, KeyError, TypeError):
        return 'error: the arguments must be JSON like {"sql": "select ..."}'
    try:
        checked = check_sql(sql, tables.names, huge_tables=[schema.EVENTS])
        result = execute(checked, tables, config)
    except RefusedSQL as refusal:
        state.refusals.append(f"Refused SQL ({refusal}): {sql.strip()[:300]}")
        return f"refused: {refusal}"
    except (SandboxError, BackendError) as error:
        return f"error: {error}"
    state.ran.append(checked.sql)
    state.last_result = result
    return rows_json(result)


def execute(checked: CheckedSQL, tables: MetricTables, config) -> SqlResult:
    if schema.EVENTS in checked.tables and tables.events_file is None:
        if checked.tables != {schema.EVENTS}:
            raise RefusedSQL("on this backend the events table cannot be joined with the"
                             " metric tables: query it on its own")
        return run_on_warehouse(tables.backend, checked, max_bytes(config), ROW_LIMIT)
    return run_sandboxed(checked, tables.frames(checked.tables), tables.events_file)


def max_bytes(config) -> int:
    settings = getattr(config, "bigquery", None)
    return getattr(settings, "maximum_bytes_billed", None) or DEFAULT_MAX_BYTES


def rows_json(result: SqlResult) -> str:
    frame = result.frame
    rows = json.loads(frame.to_json(orient="values", date_format="iso"))
    payload = {"columns": list(map(str, frame.columns)), "rows": rows}
    if result.truncated:
        payload["note"] = f"only the first {ROW_LIMIT} rows are shown"
    return json.dumps(payload)


def final_answer(content: str, state: Conversation, app_sql: list[str]) -> Answer:
    lines = [line.strip() for line in content.strip().splitlines() if line.strip()]
    bullets = tuple(line.lstrip("-*• ").strip() for line in lines if line[:1] in "-*•")
    prose = " ".join(line for line in lines if line[:1] not in "-*•")
    numbers = state.last_result.frame if state.last_result else None
    return Answer(
        prose or ("The model's answer:" if bullets else "The model gave no answer."),
        bullets, numbers, sql=(*state.ran, *app_sql), notes=tuple(state.refusals),
        refused=bool(state.refusals), source="model",
    )
