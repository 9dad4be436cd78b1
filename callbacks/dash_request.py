"""A Dash callback request, parsed once per request in one hook.

The response cache, the diagnostics and the request log all need to know which callback a
request runs (its first output names the panel) and whether its answer failed. Each used to parse
Dash's wire format itself and the cache searched the answer for a CSS class; now the hook below
parses the body once into a CallbackRequest kept on flask.g, and a panel that fails says so
with mark_failed().
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import Flask, g, has_request_context, request

CALLBACK_PATH = "/_dash-update-component"


@dataclass
class CallbackRequest:
    body: dict
    # "component.property" per output; a pattern-matching id as compact, sorted JSON.
    outputs: list[str] = field(default_factory=list)
    # The first output's component id when it is a plain string id: it names the panel.
    first_output: str | None = None
    # Set by the panel when its answer shows a failure, by the response cache on a hit.
    failed: bool = False
    answered_from_cache: bool = False


def output_name(output: dict) -> str:
    component = output.get("id")
    if isinstance(component, dict):
        component = json.dumps(component, sort_keys=True, separators=(",", ":"))
    return f"{component}.{output.get('property')}"


def parse_callback_body(body) -> CallbackRequest | None:
    """The callback a body asks for; None when it is not a Dash callback body."""
    if not isinstance(body, dict):
        return None
    outputs = body.get("outputs")
    listed = outputs if isinstance(outputs, list) else [outputs]
    flat = [item for output in listed
            for item in (output if isinstance(output, list) else [output])]
    specs = [output for output in flat if isinstance(output, dict)]
    first = listed[0] if listed else None
    component = first.get("id") if isinstance(first, dict) else None
    return CallbackRequest(
        body=body,
        outputs=[output_name(output) for output in specs],
        first_output=component if isinstance(component, str) else None,
    )


def current() -> CallbackRequest | None:
    """This request's callback, or None outside a callback request."""
    return g.get("callback_request") if has_request_context() else None


def mark_failed() -> None:
    """The answer shows a failure (an error card): it must not be remembered."""
    callback = current()
    if callback is not None:
        callback.failed = True


def install_callback_parse(server: Flask) -> None:
    """Install after sign-in and before the hooks that read the request (the response cache):
    an unauthenticated body is never parsed."""

    @server.before_request
    def parse_callback_request():
        if request.method == "POST" and request.path.endswith(CALLBACK_PATH):
            g.callback_request = parse_callback_body(request.get_json(silent=True))
