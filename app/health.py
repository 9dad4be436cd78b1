"""GET /healthz, open without sign-in: can this instance serve pages?

200 when the backend answers (a cache outage alone is a warning: pages work uncached), 503
otherwise. Only error class names are shown: the endpoint is public.
"""

from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, jsonify

from app.warm import warm_state

HEALTH_PATH = "/healthz"
PROBE_KEY = "healthz:probe"
log = logging.getLogger(__name__)


def check_backend(backend) -> dict:
    started = time.perf_counter()
    try:
        version = backend.data_version()
    except Exception as error:
        log.warning("health check: backend unavailable", exc_info=True)
        return {"ok": False, "name": backend.name, "error": type(error).__name__}
    return {
        "ok": True, "name": backend.name, "data_version": version,
        "milliseconds": round(1000 * (time.perf_counter() - started), 1),
    }


def check_cache(cache, cache_type: str, startup_problem: str | None = None) -> dict:
    if startup_problem:
        return {"ok": False, "type": cache_type, "error": startup_problem,
                "note": "the cache could not start: pages are served uncached"}
    token = secrets.token_hex(8)
    try:
        stored = cache.set(PROBE_KEY, token, timeout=60)
        ok = bool(stored) and cache.get(PROBE_KEY) == token
        error = None if ok else "the probe key did not round-trip"
    except Exception as failure:
        ok, error = False, type(failure).__name__
    result = {"ok": ok, "type": cache_type}
    if not ok:
        result |= {"error": error, "note": "pages are served uncached until the cache is back"}
    return result


def health(backend, cache, cache_type: str, cache_problem: str | None = None) -> tuple[dict, int]:
    backend_state = check_backend(backend)
    cache_state = check_cache(cache, cache_type, cache_problem)
    states = {(True, True): "ok", (True, False): "degraded"}
    status = states.get((backend_state["ok"], cache_state["ok"]), "unavailable")
    body = {"status": status, "backend": backend_state, "cache": cache_state}
    if backend_state["ok"] and cache_state["ok"]:
        body["warm"] = warm_state(cache, backend, backend_state["data_version"])
    return body, 200 if backend_state["ok"] else 503


def register_health(server: Flask, backend, cache, cache_type: str,
                    cache_problem: str | None = None) -> None:
    @server.get(HEALTH_PATH)
    def healthz():
        body, status = health(backend, cache, cache_type, cache_problem)
        response = jsonify(body)
        response.status_code = status
        response.headers["Cache-Control"] = "no-store"
        return response
