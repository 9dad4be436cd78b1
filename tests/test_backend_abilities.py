"""What each backend declares it can do (queries/backends.py's Backend), and that the cache
wrapper passes every ability on rather than hiding it."""

from __future__ import annotations

import pytest
from cachelib import NullCache

from queries.ask.sql_guard import CheckedSQL, RefusedSQL
from queries.ask.warehouse import run_on_warehouse
from queries.backends import BackendError, DuckDBBackend
from queries.bigquery import BigQueryBackend, BigQuerySettings
from queries.cache import CachedBackend

ABILITIES = ("name", "dialect", "materialised_user_periods", "cache_namespace", "supports_dry_run")


def test_duckdb_reads_materialised_histories_and_has_no_dry_run(tmp_path):
    backend = DuckDBBackend(tmp_path / "growth.duckdb")
    assert backend.materialised_user_periods is True and backend.supports_dry_run is False
    assert backend.cache_namespace == f"duckdb:{(tmp_path / 'growth.duckdb').resolve()}"
    with pytest.raises(BackendError):
        backend.dry_run("select 1", {})


def test_bigquery_scans_events_and_prices_queries_first():
    backend = BigQueryBackend(BigQuerySettings(project="demo-project", dataset="analytics"))
    assert backend.materialised_user_periods is False and backend.supports_dry_run is True
    assert backend.cache_namespace.startswith("bigquery:demo-project:")


@pytest.mark.parametrize("make", [
    lambda path: DuckDBBackend(path / "growth.duckdb"),
    lambda path: BigQueryBackend(BigQuerySettings(project="demo-project", dataset="analytics")),
])
def test_the_cache_wrapper_declares_what_it_wraps(tmp_path, make):
    backend = make(tmp_path)
    cached = CachedBackend(backend, NullCache())
    assert [getattr(cached, a) for a in ABILITIES] == [getattr(backend, a) for a in ABILITIES]


def test_the_cache_wrapper_passes_dry_runs_through_uncached():
    class Priced(DuckDBBackend):
        supports_dry_run = True

        def dry_run(self, sql, params):
            return len(sql)

    assert CachedBackend(Priced("unused.duckdb"), NullCache()).dry_run("select 1", {}) == 8


def test_raw_events_are_refused_where_queries_cannot_be_priced(tmp_path):
    cached = CachedBackend(DuckDBBackend(tmp_path / "growth.duckdb"), NullCache())
    with pytest.raises(RefusedSQL, match="not available"):
        run_on_warehouse(cached, CheckedSQL("select 1", frozenset()), max_bytes=10**9, row_limit=10)
