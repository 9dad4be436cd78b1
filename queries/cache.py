"""Query results cached by backend, data version, SQL text and parameters.

Any cache with get/set (flask-caching's Cache in the app) works. A new data version, written by
every load, changes every key, so stale results are never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

import pandas as pd

from queries.backends import Backend
from queries.query_log import QueryRecord, label_of, record

log = logging.getLogger(__name__)


class CachedBackend:
    def __init__(self, backend: Backend, cache, timeout: int | None = None):
        self.backend = backend
        self.cache = cache
        self.timeout = timeout
        self.name = backend.name
        self.dialect = backend.dialect
        self.cache_namespace = backend.cache_namespace
        self.supports_dry_run = backend.supports_dry_run

    @property
    def materialised_user_periods(self) -> bool:
        return self.backend.materialised_user_periods

    def data_version(self) -> str:
        return self.backend.data_version()

    def key(self, sql: str, params: dict, version: str) -> str:
        payload = json.dumps(
            [self.cache_namespace, version, sql, params], sort_keys=True, default=str
        )
        return "query:" + hashlib.sha256(payload.encode()).hexdigest()

    def relation(self, table: str) -> str:
        return self.backend.relation(table)

    def dry_run(self, sql: str, params: dict) -> int:
        # Never cached: an estimate is free, and it must price what a run would scan now.
        return self.backend.dry_run(sql, params)

    def shared_connection(self):
        return self.backend.shared_connection()

    def run(self, sql: str, params: dict) -> pd.DataFrame:
        started = time.perf_counter()
        key = self.key(sql, params, self.data_version())
        frame = self._get(key)
        cache_hit = frame is not None
        if not cache_hit:
            frame = self.backend.run(sql, params)
            self._set(key, frame)
        record(QueryRecord(
            label=label_of(sql), backend=self.name, rows=len(frame),
            milliseconds=1000 * (time.perf_counter() - started), cache_hit=cache_hit,
            sql=sql, params=params,
            # A hit bills nothing, whatever the first run cost.
            bytes_processed=None if cache_hit else frame.attrs.get("bytes_processed"),
            backend_cache_hit=None if cache_hit else frame.attrs.get("backend_cache_hit"),
        ))
        return frame.copy()

    def event_columns(self) -> list[str]:
        key = self.key("event_columns", {}, self.data_version())
        columns = self._get(key)
        if columns is None:
            columns = self.backend.event_columns()
            self._set(key, columns)
        return list(columns)

    def _get(self, key: str):
        try:
            return self.cache.get(key)
        except Exception:  # a cache outage must not take the page down: run uncached
            log.warning("cache read failed; running uncached", exc_info=True)
            return None

    def _set(self, key: str, value) -> None:
        try:
            self.cache.set(key, value, timeout=self.timeout)
        except Exception:
            log.warning("cache write failed; result not cached", exc_info=True)
