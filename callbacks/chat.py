"""The chat drawer: answers are computed in a background process (DiskcacheManager), so the page
stays responsive and the reader can cancel; the conversation lives in a session store."""

from __future__ import annotations

import logging
import tempfile

import diskcache
from dash import ALL, DiskcacheManager, Input, Output, State, ctx, no_update

from callbacks.buttons import toggle_on_click
from callbacks.panel import UNEXPECTED
from callbacks.view_state import FILTER_BAR_STATE, view_from_filter_bar
from layouts import ids
from layouts.chat import MAX_QUESTION_LENGTH, conversation
from queries.ask import Answer, AskContext, ask
from queries.ask.questions import EXAMPLES
from queries.errors import ParameterError, UserError

log = logging.getLogger(__name__)
# The conversation keeps its latest turns: the browser sends it back with every question.
MAX_TURNS = 40


def background_manager(config) -> DiskcacheManager:
    """Job results live on disk (config.background_dir), so every gunicorn worker sees them.
    A folder that cannot be made (a full disk) falls back to one of this process's own: the
    app still serves, and the drawer answers whenever the same worker is asked again."""
    try:
        return DiskcacheManager(diskcache.Cache(str(config.background_dir)))
    except OSError as error:
        log.warning("background jobs cannot use their folder (%s): using a private one",
                    type(error).__name__)
        return DiskcacheManager(diskcache.Cache(tempfile.mkdtemp(prefix="growth-jobs-")))


def answer_for(question: str, filters: dict, experiment, context) -> Answer:
    try:
        view = view_from_filter_bar(filters)
    except ParameterError as error:
        return Answer(f"The filter bar needs fixing first: {error}")
    asked = AskContext(context.backend, view, context.declared, experiment)
    try:
        return ask(question, asked, context.config)
    except UserError as error:
        return Answer(f"Could not answer: {error}")
    except Exception:  # one bad answer must not break the drawer
        log.exception("chat answer failed")
        return Answer(UNEXPECTED)


def register(app, context) -> None:
    toggle_on_click(app, ids.CHAT_OPEN, ids.CHAT_DRAWER)

    @app.callback(
        Output(ids.CHAT_QUESTION, "value", allow_duplicate=True),
        Input(ids.chat_example(ALL), "n_clicks"),
        prevent_initial_call=True,
    )
    def use_example(clicks):
        if not ctx.triggered_id or not any(clicks):
            return no_update
        return EXAMPLES[ctx.triggered_id["index"]][1]

    @app.callback(
        Output(ids.CHAT_CONVERSATION, "children"),
        Input(ids.CHAT_HISTORY, "data"),
    )
    def show_conversation(turns):
        return conversation(turns[-MAX_TURNS:] if isinstance(turns, list) else [])

    @app.callback(
        Output(ids.CHAT_HISTORY, "data", allow_duplicate=True),
        Input(ids.CHAT_CLEAR, "n_clicks"),
        prevent_initial_call=True,
    )
    def clear_conversation(_clicks):
        return []

    @app.callback(
        output=[Output(ids.CHAT_HISTORY, "data"), Output(ids.CHAT_QUESTION, "value")],
        inputs={"clicks": Input(ids.CHAT_ASK, "n_clicks"),
                "submits": Input(ids.CHAT_QUESTION, "n_submit")},
        # The filter bar's values as States: the question, not the filters, starts an answer.
        state={"question": State(ids.CHAT_QUESTION, "value"),
               "turns": State(ids.CHAT_HISTORY, "data"),
               "experiment": State(ids.EXPERIMENT, "value"),
               "filters": {name: State(*dep) for name, dep in FILTER_BAR_STATE.items()}},
        background=True,
        manager=background_manager(context.config),
        running=[
            (Output(ids.CHAT_ASK, "disabled"), True, False),
            (Output(ids.CHAT_PENDING, "style"), {"display": "flex"}, {"display": "none"}),
        ],
        cancel=[Input(ids.CHAT_CANCEL, "n_clicks")],
        prevent_initial_call=True,
    )
    def answer_question(clicks, submits, question, turns, experiment, filters):
        question = (question or "").strip()[:MAX_QUESTION_LENGTH]
        if not question:
            return no_update, no_update
        # The job runs in a forked process: give the query cache its Flask app back.
        with app.server.app_context():
            answer = answer_for(question, filters, experiment, context)
        kept = turns[-(MAX_TURNS - 1):] if isinstance(turns, list) else []
        return [*kept, {"question": question, "answer": answer.to_dict()}], ""
