"""Builds the Flask server and the Dash app from a Config."""

from __future__ import annotations

import html
import logging
from contextlib import ExitStack
from importlib.resources import files

import plotly.io.json
from dash import Dash
from flask import Flask, g, send_from_directory

from app.backend import build_backend
from app.cache import cache, init_cache
from app.config import PROJECT_ROOT, Config
from app.health import register_health
from app.logs import install_request_log
from app.response_cache import install_response_cache
from app.security import install_auth, install_security_headers
from callbacks.dash_request import install_callback_parse
from callbacks.panel import PanelContext
from callbacks.registry import register_all, serve_layout
from queries.experiments import parse_declared
from queries.metrics import currency_prefix, use_currency

log = logging.getLogger(__name__)
# Dash encodes answers with Plotly's encoder. Its orjson engine first walks every list element
# in Python when an answer holds components (as every panel's does); the json engine does not,
# and encodes a Retention answer four times faster.
plotly.io.json.config.default_engine = "json"

# Bootstrap's CSS comes from an installed package: the page must not need a CDN.
BOOTSTRAP_DIR = files("flask_bootstrap") / "static" / "bootstrap5" / "css"
BOOTSTRAP_URL = "/vendor/bootstrap.min.css"
# Run in <head>, before the page draws (the theme); Dash would add it at the page's end.
HEAD_SCRIPT = "theme.js"


def index_string(page: str, config: Config) -> str:
    """Dash's page with a language, the currency the grids write (data-currency) and the theme
    script in its head."""
    currency = html.escape(currency_prefix(config.currency), quote=True)
    page = page.replace("<html>", f'<html lang="en" data-currency="{currency}">', 1)
    return page.replace("{%css%}", f'{{%css%}}\n        <script src="/assets/{HEAD_SCRIPT}">'
                                   "</script>", 1)


def create_app(config: Config | None = None) -> Dash:
    config = config or Config.from_env()
    server = Flask(__name__)
    server.config["APP_CONFIG"] = config
    server.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    cache_problem = init_cache(server, config)

    @server.route(BOOTSTRAP_URL)
    def bootstrap_css():
        return send_from_directory(str(BOOTSTRAP_DIR), "bootstrap.min.css", max_age=86400)

    dash_app = Dash(
        __name__,
        server=server,
        title=config.title,
        assets_folder=str(PROJECT_ROOT / "assets"),
        external_stylesheets=[BOOTSTRAP_URL],
        serve_locally=True,
        suppress_callback_exceptions=True,
        assets_ignore=HEAD_SCRIPT.replace(".", r"\."),
    )
    dash_app.index_string = index_string(dash_app.index_string, config)
    use_currency(config.currency)
    backend = build_backend(config)
    context = PanelContext(backend, config, parse_declared(config.experiments), cache)
    # In this order: the request log times refusals too, sign-in comes before a callback's
    # body is read, and the body is parsed once before cached answers are looked up.
    install_request_log(server)
    register_health(server, backend, cache, config.cache_type, cache_problem)
    install_auth(server, config)
    install_callback_parse(server)
    install_security_headers(dash_app)
    install_response_cache(server, backend, cache, config)
    share_connection_per_request(server, backend)
    dash_app.layout = lambda: serve_layout(context)
    register_all(dash_app, context)
    # Dash lists the page's scripts on a process's first request and marks that done before it
    # is: a gunicorn worker's concurrent first requests for scripts failed with 500. List them
    # now, before serving.
    dash_app._setup_server()
    return dash_app


def share_connection_per_request(server: Flask, backend) -> None:
    """A request's queries share one backend connection, closed when the request ends."""

    @server.before_request
    def open_connection_scope():
        g.connection_scope = ExitStack()
        g.connection_scope.enter_context(backend.shared_connection())

    @server.teardown_request
    def close_connection_scope(_error):
        scope = g.pop("connection_scope", None)
        if scope is not None:
            scope.close()
