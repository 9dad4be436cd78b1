"""The "Ask your data" drawer: examples, the conversation, and the question box."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from queries.ask.questions import EXAMPLES
from queries.metrics import EXPERIMENT, FUNNEL, PERIOD_METRICS, RETENTION, format_value

MAX_QUESTION_LENGTH = 500


def open_button() -> dbc.Button:
    return dbc.Button("Ask your data", id=ids.CHAT_OPEN, color="light", size="sm",
                      className="ms-3 chat-open")


def drawer() -> html.Div:
    source = (
        "Answers come from the same queries as the dashboard, for your current view (grain,"
        " dates, filters); each shows its numbers and the SQL behind them."
    )
    examples = [
        dbc.Button(example, id=ids.chat_example(position), color="link", size="sm",
                   className="chat-example p-0 text-start d-block")
        for position, (_, example) in enumerate(EXAMPLES)
    ]
    # The conversation scrolls above the question box, which never covers it; a new answer
    # is scrolled into view (assets/chat.js).
    scrolled = html.Div([
        html.P(source, className="small text-muted"),
        html.Details([html.Summary("Example questions", className="small"), *examples],
                     open=True, className="mb-3 chat-examples"),
        html.Div(id=ids.CHAT_CONVERSATION, className="chat-conversation", role="log",
                 **{"aria-live": "polite"}),
        html.Div(
            [dbc.Spinner(size="sm", color="primary"),
             html.Span("Working on the answer…", className="ms-2 small"),
             dbc.Button("Cancel", id=ids.CHAT_CANCEL, size="sm", color="secondary",
                        outline=True, className="ms-auto")],
            id=ids.CHAT_PENDING, className="chat-pending align-items-center my-2",
            style={"display": "none"},
        ),
    ], id=ids.CHAT_SCROLL, className="chat-scroll")
    body = [scrolled, question_box()]
    return html.Div([
        dcc.Store(id=ids.CHAT_HISTORY, storage_type="session", data=[]),
        dbc.Offcanvas(body, id=ids.CHAT_DRAWER, title="Ask your data", placement="end",
                      is_open=False, scrollable=True, backdrop=False, className="chat-drawer"),
    ])


def question_box() -> html.Div:
    return html.Div([
        dbc.InputGroup([
            dbc.Input(id=ids.CHAT_QUESTION, placeholder="Ask a question about your data",
                      maxLength=MAX_QUESTION_LENGTH, autoComplete="off", debounce=False),
            dbc.Button("Ask", id=ids.CHAT_ASK, color="primary"),
        ]),
        dbc.Button("Clear conversation", id=ids.CHAT_CLEAR, color="link", size="sm",
                   className="p-0 mt-1 small"),
    ], className="chat-question-box")


def conversation(turns: list[dict]) -> list:
    return [turn_view(turn) for turn in turns or []]


def turn_view(turn: dict) -> html.Div:
    answer = turn["answer"]
    parts = [html.P(answer["text"], className="mb-1")]
    if answer["bullets"]:
        parts.append(html.Ul([html.Li(bullet) for bullet in answer["bullets"]], className="mb-1"))
    parts += [dbc.Alert(note, color="warning", className="py-1 px-2 small mb-1 chat-note")
              for note in answer["notes"]]
    if answer["numbers"] and answer["numbers"]["rows"]:
        parts.append(numbers_table(answer["numbers"]))
    if answer["sql"]:
        parts.append(html.Details(
            [html.Summary(f"SQL used ({len(answer['sql'])})", className="small"),
             *[html.Pre(sql, className="chat-sql small") for sql in answer["sql"]]],
            className="chat-sql-details",
        ))
    by = "the model" if answer["source"] == "model" else "the built-in analyst"
    parts.append(html.Div(f"Answered by {by}", className="chat-source small text-muted"))
    return html.Div([
        html.Div(turn["question"], className="chat-question"),
        html.Div(parts, className="chat-answer" + (" chat-refused" if answer["refused"] else "")),
    ], className="chat-turn mb-3")


# Every column the chat's tables can hold, by name: the catalogue says its label and unit.
CATALOGUE = EXPERIMENT | FUNNEL | RETENTION | PERIOD_METRICS
PLAIN_HEADERS = {"period_start": "Period", "is_complete": "Complete", "cohort_start": "Cohort",
                 "period_index": "Period k", "variant": "Variant", "is_control": "Control"}


def header_text(column: str) -> str:
    metric = CATALOGUE.get(column)
    if metric is not None:
        return metric.label
    return PLAIN_HEADERS.get(column, column.replace("_", " ").capitalize())


def numbers_table(numbers: dict) -> html.Div:
    columns = numbers["columns"]
    header = html.Thead(html.Tr([html.Th(header_text(column), scope="col")
                                 for column in columns]))
    body = html.Tbody([html.Tr([html.Td(cell_text(value, column))
                                for column, value in zip(columns, row, strict=True)])
                       for row in numbers["rows"]])
    note = []
    if numbers["total_rows"] > len(numbers["rows"]):
        note = [html.Div(f"first {len(numbers['rows'])} of {numbers['total_rows']} rows",
                         className="small text-muted")]
    return html.Div([dbc.Table([header, body], size="sm", bordered=True, className="mb-1"),
                     *note], className="chat-numbers")


def cell_text(value, column: str = "") -> str:
    """A cell as the dashboard writes it: by its metric's unit when the catalogue knows it."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    metric = CATALOGUE.get(column)
    if metric is not None and isinstance(value, int | float):
        return format_value(value, metric.unit)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.2f}"
    if isinstance(value, str) and value.endswith("T00:00:00"):
        return value[:10]
    return f"{value:,}" if isinstance(value, int) else str(value)
