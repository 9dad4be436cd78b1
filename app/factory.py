"""Builds the Flask server and the Dash app from a Config."""

from __future__ import annotations

import logging
from importlib.resources import files

from dash import Dash
from flask import Flask, send_from_directory

import callbacks
from app.backend import open_backend
from app.cache import cache, cache_settings
from app.config import PROJECT_ROOT, Config
from app.health import register_health
from app.logs import install_request_log
from app.response_cache import install_response_cache
from app.security import install_auth, install_security_headers
from layouts.page import page, unavailable_page
from queries.backends import BackendError
from queries.cache import CachedBackend
from queries.experiments import experiment_names, parse_declared
from queries.options import filter_options

log = logging.getLogger(__name__)

# Bootstrap's CSS comes from an installed package: the page must not need a CDN.
BOOTSTRAP_DIR = files("flask_bootstrap") / "static" / "bootstrap5" / "css"
BOOTSTRAP_URL = "/vendor/bootstrap.min.css"


def build_backend(config: Config):
    return CachedBackend(open_backend(config), cache, config.cache_timeout_seconds)


def create_app(config: Config | None = None) -> Dash:
    config = config or Config.from_env()
    server = Flask(__name__)
    server.config["APP_CONFIG"] = config
    cache.init_app(server, config=cache_settings(config))

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
    )
    backend = build_backend(config)
    # In this order: the request log times refusals too, and sign-in comes before cached answers.
    install_request_log(server)
    register_health(server, backend, cache, config.cache_type)
    install_auth(server, config)
    install_security_headers(dash_app)
    install_response_cache(server, backend, cache, config)
    dash_app.layout = lambda: serve_layout(backend, config)
    callbacks.register_all(dash_app, backend, config)
    return dash_app


def serve_layout(backend, config: Config):
    try:
        options = filter_options(backend)
        experiments = experiment_names(backend, parse_declared(config.experiments))
    except BackendError as error:
        return unavailable_page(config.title, str(error))
    except Exception:  # the page must render even when the backend is broken
        log.exception("could not read filter options")
        return unavailable_page(config.title, "Unexpected error; see the server log.")
    return page(config.title, options, experiments)

