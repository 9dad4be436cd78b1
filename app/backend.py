"""The backend the configuration names, uncached (the app and the CLI add their caches)."""

from __future__ import annotations

from app.config import Config
from queries.backends import Backend, DuckDBBackend


def open_backend(config: Config) -> Backend:
    if config.backend == "bigquery":
        from queries.bigquery import BigQueryBackend

        return BigQueryBackend(config.bigquery)
    return DuckDBBackend(config.duckdb_path)
