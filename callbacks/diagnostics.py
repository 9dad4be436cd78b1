"""Diagnostics: the queries behind the current view.

guarded() (callbacks/guard.py) hands each panel's query records to remember(), which keeps them
in the shared cache (so any gunicorn worker can show them) under the browser's session id and
the panel's first output. The session id is a random cookie: it names a browser, grants nothing,
and only that browser is shown its own queries. Without the cache there are no diagnostics, and
the page works as before.
"""

from __future__ import annotations

import json
import logging
import re
import secrets

from dash import ClientsideFunction, Input, Output, no_update
from flask import Response, g, has_request_context, request

from app.cache import cache
from callbacks.buttons import toggle_on_click
from layouts import ids
from layouts.diagnostics import note, sql_details
from queries.query_log import QueryRecord

log = logging.getLogger(__name__)

SESSION_COOKIE = "diagnostics_session"
SESSION_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEEP_SECONDS = 3600
# The panels of each tab, by their callback's first output, with the name shown.
TAB_PANELS = {
    ids.TAB_GROWTH: ((ids.GROWTH_STATUS, "Growth"),),
    ids.TAB_RETENTION: ((ids.RETENTION_STATUS, "Retention"),),
    ids.TAB_REVENUE: ((ids.REVENUE_STATUS, "Revenue"), (ids.FUNNEL_STATUS, "Funnel")),
    ids.TAB_EXPERIMENTS: ((ids.EXPERIMENT_ALERTS, "Experiment"),),
}
PANEL_OUTPUTS = tuple(output for panels in TAB_PANELS.values() for output, _ in panels)
# app/response_cache.py marks a callback answered whole from its cache: no query ran.
RESPONSE_CACHE_HIT = "hit"


def cache_key(session: str, panel_output: str) -> str:
    return f"diagnostics:{session}:{panel_output}"


def session_id() -> str | None:
    if not has_request_context():
        return None
    value = request.cookies.get(SESSION_COOKIE, "")
    return value if SESSION_PATTERN.fullmatch(value) else None


def requested_panel() -> str | None:
    """The first output of the callback this request runs: it names the panel."""
    body = request.get_json(silent=True) if has_request_context() else None
    outputs = body.get("outputs") if isinstance(body, dict) else None
    first = outputs[0] if isinstance(outputs, list) and outputs else outputs
    component = first.get("id") if isinstance(first, dict) else None
    return component if isinstance(component, str) else None


def query_row(entry: QueryRecord) -> dict:
    return {
        "label": entry.label,
        "backend": entry.backend,
        "rows": entry.rows,
        "milliseconds": round(entry.milliseconds, 1),
        "cache": "hit" if entry.cache_hit else "miss",
        "bytes_processed": entry.bytes_processed,
        "backend_cache": None if entry.backend_cache_hit is None
        else ("hit" if entry.backend_cache_hit else "miss"),
        "sql": entry.sql,
        "params": json.dumps(entry.params, default=str, sort_keys=True),
    }


def store(panel_output: str | None, rows: list[dict]) -> None:
    session = session_id()
    if not session or not panel_output:
        return
    try:
        cache.set(cache_key(session, panel_output), rows, timeout=KEEP_SECONDS)
    except Exception:  # the cache is away: no diagnostics, and the query cache warns already
        log.debug("diagnostics not stored", exc_info=True)


def remember(records: list[QueryRecord]) -> None:
    """Keeps the queries of the panel callback now running for this browser's diagnostics."""
    store(requested_panel(), [query_row(entry) for entry in records])


def recall(session: str, tab: str | None) -> list[dict]:
    """The queries behind the tab's panels, panel by panel; raises when the cache is away."""
    panels = TAB_PANELS.get(tab, ())
    stored = cache.get_many(*[cache_key(session, output) for output, _ in panels])
    return [
        {"panel": name, **row}
        for (_, name), rows in zip(panels, stored, strict=True)
        for row in rows or ()
    ]


def diagnostics_view(tab: str | None):
    """The grid's rows, the folded SQL and a note."""
    session = session_id()
    if not session:
        return [], [], note("Diagnostics need cookies: this browser has no session id yet.")
    try:
        rows = recall(session, tab)
    except Exception:
        log.debug("diagnostics not read", exc_info=True)
        return [], [], note("Diagnostics are unavailable: the cache cannot be reached.")
    if not rows:
        return [], [], note("No queries recorded for this view yet.")
    grid = [{key: value for key, value in row.items() if key not in ("sql", "params")}
            for row in rows]
    return grid, sql_details(rows), None


ANSWER_CACHE_LABEL = "whole answer from the response cache: no query ran"


def answered_from_response_cache(backend_name: str) -> None:
    """A panel answered whole from the response cache ran no query: say so, rather than keep
    showing the queries of the view before."""
    panel = requested_panel()
    if panel in PANEL_OUTPUTS:
        store(panel, [{"label": ANSWER_CACHE_LABEL, "backend": backend_name, "cache": "hit"}])


def register(app, backend, config) -> None:
    @app.server.after_request
    def give_session_id(response: Response) -> Response:
        if g.get("response_cache") == RESPONSE_CACHE_HIT:
            answered_from_response_cache(backend.name)
        if response.mimetype == "text/html" and not session_id():
            response.set_cookie(SESSION_COOKIE, secrets.token_urlsafe(24), httponly=True,
                                samesite="Lax", secure=request.is_secure)
        return response

    toggle_on_click(app, ids.DIAGNOSTICS_TOGGLE, ids.DIAGNOSTICS_COLLAPSE)

    # In the browser (assets/panels.js): a request only while the card is open.
    app.clientside_callback(
        ClientsideFunction("panels", "diagnostics"),
        Output(ids.DIAGNOSTICS_REQUEST, "data"),
        Input(ids.DIAGNOSTICS_COLLAPSE, "is_open"),
        Input(ids.VIEW_TABS, "active_tab"),
        # A panel's first output is set whenever it answers, changed or not.
        *[Input(output, "children") for output in PANEL_OUTPUTS],
    )

    @app.callback(
        Output(ids.DIAGNOSTICS_GRID, "rowData"),
        Output(ids.DIAGNOSTICS_SQL, "children"),
        Output(ids.DIAGNOSTICS_NOTE, "children"),
        Input(ids.DIAGNOSTICS_REQUEST, "data"),
        prevent_initial_call=True,
    )
    def show_diagnostics(request):
        if not isinstance(request, dict):
            return no_update, no_update, no_update
        return diagnostics_view(request.get("tab"))

