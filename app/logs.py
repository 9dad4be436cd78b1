"""Logs as JSON lines on stderr: one per request, one per query, and the app's own messages.

`configure(level)` sets this up for `python -m app serve`; gunicorn gets the same settings through
`logconfig_dict` (app/gunicorn_conf.py). `install_request_log(server)` adds the request lines.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
import threading
import time
from contextlib import ExitStack

from flask import Flask, Response, g, request

from callbacks import dash_request
from queries.query_log import QueryRecord, collecting

request_log = logging.getLogger("growth.requests")
QUERY_CACHE_HEADER = "X-Query-Cache"


class JsonFormatter(logging.Formatter):
    """A message that is already a JSON object (the query log's) is merged, not quoted."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        message = record.getMessage()
        try:
            parsed = json.loads(message) if message.startswith("{") else None
        except json.JSONDecodeError:
            parsed = None
        fields |= parsed if isinstance(parsed, dict) else {"message": message}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        suppressed = getattr(record, "suppressed", 0)
        if suppressed:
            fields["suppressed_since_last"] = suppressed
        return json.dumps(fields, default=str)


class RateLimit(logging.Filter):
    """Lets one record through per interval; a cache outage would otherwise log every query."""

    def __init__(self, seconds: float = 60.0):
        super().__init__()
        self.seconds = seconds
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._next_at:
                self._suppressed += 1
                return False
            record.suppressed, self._suppressed = self._suppressed, 0
            self._next_at = now + self.seconds
            return True


def logging_config(level: str = "INFO") -> dict:
    """A dictConfig for the app's loggers and gunicorn's: JSON lines on stderr."""
    level = level.upper()
    json_handler = {"class": "logging.StreamHandler", "formatter": "json",
                    "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"cache_outage": {"()": RateLimit, "seconds": 60.0}},
        "handlers": {"json": json_handler},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            # Every cache operation fails while Redis is away: one warning a minute is enough.
            "queries.cache": {"filters": ["cache_outage"]},
            "app.response_cache": {"filters": ["cache_outage"]},
            # The request lines below replace the servers' own access logs.
            "werkzeug": {"level": "WARNING"},
            "gunicorn.access": {"level": "WARNING"},
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
        },
    }


def configure(level: str = "INFO", readable: bool = False) -> None:
    """JSON lines for a log collector (gunicorn on a platform); `readable`: one plain line per
    record, for a person watching `python -m app` in a terminal."""
    config = logging_config(level)
    if readable:
        config["formatters"]["json"] = {"()": ReadableFormatter}
    logging.config.dictConfig(config)


class ReadableFormatter(logging.Formatter):
    """`22:08:13 INFO    app.cli: serving on …`; a request as `GET / 200 12.3 ms, 2 queries`."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if record.name == request_log.name:
            try:
                fields = json.loads(record.getMessage())
                text = (f"{fields['method']} {fields['path']} {fields['status']}"
                        f" {fields['milliseconds']} ms, {fields['queries']} queries")
            except (ValueError, KeyError):
                return super().format(record)
            record = logging.makeLogRecord(record.__dict__ | {"msg": text, "args": ()})
        return super().format(record)


class TerminalFormatter(logging.Formatter):
    """`warning: message`, for a person at a terminal: a traceback only for errors (or at
    DEBUG level), since a warning already says what went wrong."""

    def __init__(self, tracebacks: bool):
        super().__init__("%(levelname)s: %(message)s")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        if record.exc_info and not self.tracebacks and record.levelno < logging.ERROR:
            record = logging.makeLogRecord(record.__dict__ | {"exc_info": None,
                                                                "exc_text": None})
        return super().format(record)


def configure_terminal(level: str = "WARNING") -> None:
    """For the command line's scripts (load, refresh, demo, export): warnings as one line each,
    and a cache outage as one warning a minute, as in the server's logs."""
    config = logging_config(level)
    config["formatters"] = {"terminal": {"()": TerminalFormatter,
                                         "tracebacks": level.upper() == "DEBUG"}}
    config["handlers"] = {"terminal": {"class": "logging.StreamHandler",
                                       "formatter": "terminal", "stream": "ext://sys.stderr"}}
    config["root"] = {"level": level.upper(), "handlers": ["terminal"]}
    logging.config.dictConfig(config)


def install_request_log(server: Flask) -> None:
    """Times every request and gathers the queries it ran (queries/query_log.py)."""

    def start_request_log():
        g.request_started = time.perf_counter()
        g.request_log_scope = ExitStack()
        g.query_records = g.request_log_scope.enter_context(collecting())

    # First, before Dash's own set-up on the first request (which builds the layout): its time
    # and queries belong to the request too.
    server.before_request_funcs.setdefault(None, []).insert(0, start_request_log)

    @server.after_request
    def finish_request_log(response: Response) -> Response:
        records = g.get("query_records", [])
        callback = dash_request.current()
        state = "hit" if callback and callback.answered_from_cache else query_cache_state(records)
        if callback:
            response.headers[QUERY_CACHE_HEADER] = state
        fields = {
            "event": "request",
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "milliseconds": round(1000 * (time.perf_counter() - g.request_started), 1),
            "queries": len(records),
            "cache_hits": sum(r.cache_hit for r in records),
            "cache_misses": sum(not r.cache_hit for r in records),
        }
        if callback:
            fields["outputs"] = callback.outputs
            fields["query_cache"] = state
        if g.get("user"):
            fields["user"] = g.user
        request_log.info(json.dumps(fields))
        return response

    @server.teardown_request
    def end_request_log(_error):
        scope = g.pop("request_log_scope", None)
        if scope is not None:
            scope.close()


def query_cache_state(records: list[QueryRecord]) -> str:
    """`miss` when any query ran on the backend, `hit` when all came from the cache."""
    if not records:
        return "none"
    return "hit" if all(r.cache_hit for r in records) else "miss"
