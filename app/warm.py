"""Warms the shared query cache with the views the page computes when it opens.

Run after start-up (gunicorn's master starts `python -m app warm`; `python -m app serve` uses a
thread) and after every load, so the first visitor after a deploy or a data refresh does not
wait for the backend. The views are the page's callbacks with the layout's default values, so
what is warmed is exactly what the first page open asks for.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from app.backend import build_backend
from app.config import Config
from queries.errors import ParameterError
from queries.experiments import parse_declared
from queries.query_log import collecting

log = logging.getLogger(__name__)
# Caches every process shares: warming in another process only helps these.
SHARED_CACHES = ("FileSystemCache", "RedisCache")


@dataclass(frozen=True)
class WarmReport:
    data_version: str
    views: int
    failed: int
    queries: int
    backend_queries: int
    seconds: float
    finished_at: str


def component_tree(component) -> list:
    """Every component in a layout, depth first, in page order."""
    if isinstance(component, (list, tuple)):
        return [found for child in component for found in component_tree(child)]
    if not hasattr(component, "to_plotly_json"):
        return []
    return [component, *component_tree(getattr(component, "children", None))]


class LayoutDefaults:
    """The values the browser sends on first open: the layout's own defaults."""

    def __init__(self, layout):
        components = [c for c in component_tree(layout) if getattr(c, "id", None) is not None]
        self.by_id = {c.id: c for c in components if isinstance(c.id, str)}
        self.patterned = [c for c in components if isinstance(c.id, dict)]

    def has(self, component_id: str) -> bool:
        return component_id in self.by_id

    def value(self, dependency: tuple):
        """What the browser sends for (component id, property); a pattern id gets a list."""
        component_id, prop = dependency
        if isinstance(component_id, dict):
            matching = [c for c in self.patterned if c.id.get("type") == component_id["type"]]
            return [c.id if prop == "id" else getattr(c, prop, None) for c in matching]
        component = self.by_id.get(component_id)
        return None if component is None else getattr(component, prop, None)


def panel_view(panel, page: LayoutDefaults, context) -> Callable | None:
    """Draws the panel as the page's first open asks for it; None when it draws nothing."""
    from callbacks.view_state import FILTER_BAR_STATE, view_from_filter_bar

    filters = {name: page.value(dependency) for name, dependency in FILTER_BAR_STATE.items()}
    controls = {name: page.value(dependency)
                for name, dependency in {**panel.controls, **panel.state}.items()}
    try:
        request = panel.parse(view_from_filter_bar(filters), controls, context)
    except ParameterError:  # the page asks, and shows a message for these defaults: no query
        return lambda: None
    if request is None:
        return None
    return lambda: panel.render(panel.compute(context, request), request)


def default_views(backend, config: Config) -> list[tuple[str, Callable[[], object]]]:
    """(name, run) for each panel the page draws on first open, with the page's defaults.

    Building the layout runs the filter-option and experiment-name queries itself."""
    # Imported here: the CLI's loads import this module and should not pay for Dash.
    from callbacks.panel import PanelContext
    from callbacks.registry import PANELS, serve_layout
    from layouts import ids

    context = PanelContext(backend, config, parse_declared(config.experiments))
    page = LayoutDefaults(serve_layout(context))
    if not page.has(ids.GRAIN):  # no data yet, or the backend is down
        return []
    views = [(panel.name, panel_view(panel, page, context)) for panel in PANELS]
    return [(name, run) for name, run in views if run is not None]


def marker_key(backend, data_version: str) -> str:
    return backend.key("-- cache warmed", {}, data_version)


def warm(backend, config: Config, cache) -> WarmReport:
    """Runs the default views through the cached backend; records when it finished."""
    started = time.perf_counter()
    version = backend.data_version()
    failed = 0
    with collecting() as records:
        views = default_views(backend, config)
        for name, run in views:
            try:
                run()
            except Exception as error:  # one broken view must not keep the others cold
                failed += 1
                log.warning("warming the %s view failed: %s", name, error)
                log.debug("warming the %s view failed", name, exc_info=True)
    report = WarmReport(
        data_version=version, views=len(views), failed=failed, queries=len(records),
        backend_queries=sum(not r.cache_hit for r in records),
        seconds=round(time.perf_counter() - started, 2),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    try:
        cache.set(marker_key(backend, version), asdict(report), timeout=0)
    except Exception:
        log.warning("could not record the warm-up in the cache", exc_info=True)
    log.info(json.dumps({"event": "cache_warmed", **asdict(report)}))
    return report


def warm_state(cache, backend, data_version: str) -> dict:
    """For /healthz: whether the default views of this data version are in the cache."""
    try:
        report = cache.get(marker_key(backend, data_version))
    except Exception:
        report = None
    return {"done": False} if report is None else {"done": True, **report}


def warm_in_thread(dash_app, config: Config) -> threading.Thread:
    """For the development server: warm while it starts serving."""
    from app.cache import cache

    def run():
        with dash_app.server.app_context():
            warm(build_backend(config), config, cache)

    thread = threading.Thread(target=run, name="cache-warm", daemon=True)
    thread.start()
    return thread


@contextmanager
def shared_cache(config: Config) -> Iterator[tuple[object, object]]:
    """(cache, cached backend) as the app has them, outside a server (for the CLI)."""
    from flask import Flask

    from app.cache import cache, cache_settings

    server = Flask(__name__)
    cache.init_app(server, config=cache_settings(config))
    with server.app_context():
        yield cache, build_backend(config)


def warm_shared_cache(config: Config) -> WarmReport | None:
    """`python -m app warm`: the app's cache, without a server."""
    if not config.warm_cache or config.cache_type not in SHARED_CACHES:
        return None
    with shared_cache(config) as (cache, backend):
        return warm(backend, config, cache)


def is_warm(config: Config) -> bool:
    """Whether the current data's default views were warmed in the app's shared cache, i.e. an
    app serves this database from this cache."""
    if not config.warm_cache or config.cache_type not in SHARED_CACHES:
        return False
    if config.backend != "duckdb" or not config.duckdb_path.exists():
        return False
    if config.cache_type == "FileSystemCache" and not config.cache_dir.is_dir():
        return False
    try:
        with shared_cache(config) as (cache, backend):
            return warm_state(cache, backend, backend.data_version())["done"]
    except Exception:  # no data yet, or the cache is away: nothing to keep warm
        return False


@contextmanager
def rewarmed(config: Config) -> Iterator[None]:
    """Around a load: when the old data was warm, warm the new data's default views (new data,
    new cache keys) so the first visitor after a refresh does not wait for the backend."""
    was_warm = is_warm(config)
    yield
    if not was_warm:
        return
    from app.storage import step

    try:
        with step("warming the cache"):
            warm_shared_cache(config)
    except Exception as error:  # the data is loaded: a cold cache only makes pages slower
        log.warning("the cache was not warmed: %s", error)


def start_warm_process(config: Config) -> subprocess.Popen | None:
    """For gunicorn's master: warm once, in a separate process, while the workers serve."""
    if not config.warm_cache or config.cache_type not in SHARED_CACHES:
        return None
    return subprocess.Popen([sys.executable, "-m", "app", "warm"])
