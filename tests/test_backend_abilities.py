"""What each backend declares it can do (queries/backends.py's Backend), and that the cache
wrapper passes every ability on rather than hiding it."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from cachelib import NullCache

from queries import schema
from queries.ask.sql_guard import CheckedSQL, RefusedSQL
from queries.ask.warehouse import run_on_warehouse
from queries.backends import BackendError, DuckDBBackend
from queries.bigquery import BigQueryBackend, BigQuerySettings
from queries.cache import CachedBackend
from queries.filters import SegmentFilter
from queries.growth import GrowthQuery, growth_table
from queries.periods import Grain
from tests.conftest import PLATFORM_ROWS

ABILITIES = ("name", "dialect", "materialised_user_periods", "cache_namespace", "supports_dry_run")


def test_duckdb_reads_materialised_histories_and_has_no_dry_run(make_db):
    path = make_db(PLATFORM_ROWS, segment_columns=("platform",))
    backend = DuckDBBackend(path)
    assert backend.materialised_user_periods is True and backend.supports_dry_run is False
    assert backend.cache_namespace == f"duckdb:{path.resolve()}"
    with pytest.raises(BackendError):
        backend.dry_run("select 1", {})


def test_a_database_without_the_loaders_tables_is_read_from_its_events(make_db, tmp_path):
    # As a file written before the activity tables existed: a filtered view still answers,
    # the same, from the raw events.
    loaded = make_db(PLATFORM_ROWS, segment_columns=("platform",))
    older = tmp_path / "older.duckdb"
    shutil.copy(loaded, older)
    with duckdb.connect(str(older)) as connection:
        connection.execute(f"drop table {schema.activity_table(Grain.WEEK)}")
    ios = GrowthQuery(Grain.WEEK, segment=SegmentFilter.parse(["platform=ios"]))
    assert DuckDBBackend(older).materialised_user_periods is False
    assert growth_table(DuckDBBackend(older), ios).equals(growth_table(DuckDBBackend(loaded), ios))


def test_bigquery_scans_events_and_prices_queries_first():
    backend = BigQueryBackend(BigQuerySettings(project="demo-project", dataset="analytics"))
    assert backend.materialised_user_periods is False and backend.supports_dry_run is True
    assert backend.cache_namespace.startswith("bigquery:demo-project:")


@pytest.mark.parametrize("make", [
    lambda make_db: DuckDBBackend(make_db(PLATFORM_ROWS, segment_columns=("platform",))),
    lambda make_db: BigQueryBackend(BigQuerySettings(project="demo-project", dataset="analytics")),
])
def test_the_cache_wrapper_declares_what_it_wraps(make_db, make):
    backend = make(make_db)
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
