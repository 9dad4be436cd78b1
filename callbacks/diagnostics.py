"""Diagnostics: the queries behind the current view.

Each panel's answer (callbacks/panel.py) hands its query records to remember(), which keeps
them in the shared cache (so any gunicorn worker can show them) under the browser's session id
and the panel's name. The session id is a random cookie: it names a browser, grants nothing,
and only that browser is shown its own queries. Without the cache there are no diagnostics, and
the page works as before.
"""

from __future__ import annotations

import json
import logging
import re
import secrets

from dash import ClientsideFunction, Input, Output, no_update
from flask import Response, has_request_context, request

from callbacks import dash_request
from callbacks.buttons import toggle_on_click
from layouts import ids
from layouts.diagnostics import note, sql_details
from queries.query_log import QueryRecord

log = logging.getLogger(__name__)

SESSION_COOKIE = "diagnostics_session"
SESSION_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEEP_SECONDS = 3600


def cache_key(session: str, panel: str) -> str:
    return f"diagnostics:{session}:{panel}"


def session_id() -> str | None:
    if not has_request_context():
        return None
    value = request.cookies.get(SESSION_COOKIE, "")
    return value if SESSION_PATTERN.fullmatch(value) else None


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


def store(cache, panel: str, rows: list[dict]) -> None:
    session = session_id()
    if cache is None or not session:
        return
    try:
        cache.set(cache_key(session, panel), rows, timeout=KEEP_SECONDS)
    except Exception:  # the cache is away: no diagnostics, and the query cache warns already
        log.debug("diagnostics not stored", exc_info=True)


def remember(cache, panel: str, records: list[QueryRecord]) -> None:
    """Keeps the queries of the panel now answering for this browser's diagnostics."""
    store(cache, panel, [query_row(entry) for entry in records])


def recall(cache, session: str, panels) -> list[dict]:
    """The queries behind the panels, panel by panel; raises when the cache is away."""
    stored = cache.get_many(*[cache_key(session, panel.name) for panel in panels])
    return [
        {"panel": panel.label, **row}
        for panel, rows in zip(panels, stored, strict=True)
        for row in rows or ()
    ]


def diagnostics_view(cache, panels):
    """The grid's rows, the folded SQL and a note, for these panels."""
    session = session_id()
    if not session:
        return [], [], note("Diagnostics need cookies: this browser has no session id yet.")
    try:
        rows = recall(cache, session, panels)
    except Exception:
        log.debug("diagnostics not read", exc_info=True)
        return [], [], note("Diagnostics are unavailable: the cache cannot be reached.")
    if not rows:
        return [], [], note("No queries recorded for this view yet.")
    grid = [{key: value for key, value in row.items() if key not in ("sql", "params")}
            for row in rows]
    return grid, sql_details(rows), None


ANSWER_CACHE_LABEL = "whole answer from the response cache: no query ran"


def register(app, context, panels) -> None:
    cache, by_status = context.cache, {panel.status: panel for panel in panels}

    @app.server.after_request
    def give_session_id(response: Response) -> Response:
        callback = dash_request.current()
        panel = by_status.get(callback.first_output) if callback else None
        if panel is not None and callback.answered_from_cache:
            # No query ran: say so, rather than keep showing the queries of the view before.
            store(cache, panel.name, [{"label": ANSWER_CACHE_LABEL,
                                       "backend": context.backend.name, "cache": "hit"}])
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
        *[Input(panel.status, "children") for panel in panels],
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
        tab = request.get("tab")
        return diagnostics_view(cache, [panel for panel in panels if panel.tab == tab])
