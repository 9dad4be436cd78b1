"""Ask your data: the built-in analyst, or a model that may only run checked, sandboxed SQL."""

from __future__ import annotations

from queries.ask.analyst import AskContext, answer_offline
from queries.ask.answer import Answer


def ask(text: str, context: AskContext, config) -> Answer:
    """The model answers when OPENAI_API_KEY is set; the built-in analyst otherwise."""
    if config.openai_api_key:
        from queries.ask.model import answer_with_model

        return answer_with_model(text, context, config)
    return answer_offline(text, context)


__all__ = ["Answer", "AskContext", "ask"]
