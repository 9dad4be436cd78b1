"""The backend the configuration names: uncached (open_backend) or with the app's query cache."""

from __future__ import annotations

from app.config import Config
from queries.backends import Backend, DuckDBBackend
from queries.cache import CachedBackend


def open_backend(config: Config) -> Backend:
    if config.backend == "bigquery":
        from queries.bigquery import BigQueryBackend

        return BigQueryBackend(config.bigquery)
    return DuckDBBackend(config.duckdb_path)


def build_backend(config: Config) -> CachedBackend:
    """The backend behind the app's shared query cache (app/cache.py)."""
    from app.cache import cache

    return CachedBackend(open_backend(config), cache, config.cache_timeout_seconds)
