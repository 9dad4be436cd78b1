"""Whole callback responses cached for the panels that are pure functions of their inputs.

A panel answer costs more to draw (Plotly figures, then JSON) than to read from the query cache,
so a view someone has already seen is answered from here. The key covers the request body
(outputs, inputs, state, what triggered it), the data version and backend, the declared
experiments and the code itself: a new deploy or a data load never serves an old answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from importlib.metadata import version

from flask import Flask, Response, g

from app.config import PROJECT_ROOT, Config
from callbacks import dash_request
from callbacks.dash_request import CallbackRequest, parse_callback_body
from callbacks.registry import PANELS, panel_for_output

log = logging.getLogger(__name__)
# The first output of each panel callback whose answer depends only on the request and the
# data (the registry says which). Not chat or diagnostics, whose answers change with each call.
CACHED_PANELS = frozenset(panel.status for panel in PANELS if panel.cacheable)
CODE_FOLDERS = ("app", "callbacks", "layouts", "queries")
# On cached panels' answers: `hit` when the whole answer came from here, else `miss`.
RESPONSE_CACHE_HEADER = "X-Response-Cache"


def code_version() -> str:
    """A digest of the source and the drawing libraries' versions."""
    digest = hashlib.sha256()
    for package in ("dash", "plotly", "dash-bootstrap-components", "dash-ag-grid"):
        digest.update(f"{package}={version(package)};".encode())
    for folder in CODE_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".sql"):
                digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def is_cacheable(callback: CallbackRequest | None) -> bool:
    panel = panel_for_output(callback.first_output) if callback else None
    return panel is not None and panel.cacheable


def cached_panel(body: dict) -> bool:
    return is_cacheable(parse_callback_body(body))


def canonical(body: dict) -> dict:
    """The request with an unset value (sent without "value") written as null: the renderer
    sends a control never set (a dropdown's first state) one way and a cleared one the other,
    and the callback sees None either way."""
    def filled(dependency):
        if isinstance(dependency, list):
            return [filled(item) for item in dependency]
        return {"value": None, **dependency} if isinstance(dependency, dict) else dependency

    return body | {group: [filled(dependency) for dependency in body.get(group) or []]
                   for group in ("inputs", "state")}


def install_response_cache(server: Flask, backend, cache, config: Config) -> None:
    if not config.response_cache:
        return
    code = code_version()
    namespace = json.dumps([code, config.experiments], sort_keys=True, default=str)

    @server.before_request
    def answer_from_cache():
        callback = dash_request.current()
        if not is_cacheable(callback):
            return None
        try:
            payload = json.dumps([namespace, canonical(callback.body)], sort_keys=True,
                                 separators=(",", ":"))
            key = backend.key(payload, {"response": True}, backend.data_version())
            cached = cache.get(key)
        except Exception:  # the cache (or the backend's version) is away: compute the answer
            log.warning("response cache read failed; computing the answer", exc_info=True)
            return None
        if cached is None:
            g.response_cache_key = key
            return None
        callback.answered_from_cache = True
        return Response(cached, mimetype="application/json",
                        headers={RESPONSE_CACHE_HEADER: "hit"})

    @server.after_request
    def remember_answer(response: Response) -> Response:
        key = g.pop("response_cache_key", None)
        if key is None or response.status_code != 200 or response.direct_passthrough:
            return response
        response.headers[RESPONSE_CACHE_HEADER] = "miss"
        callback = dash_request.current()
        if callback is None or callback.failed:  # a transient failure must not be remembered
            return response
        try:
            cache.set(key, response.get_data(), timeout=config.cache_timeout_seconds)
        except Exception:
            log.warning("response cache write failed; answer not cached", exc_info=True)
        return response
