"""Every spec in the registry is whole: its SQL files exist, its rendered SQL binds exactly the
parameters it declares (on both dialects), and its empty frame has the declared schema."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

import pandas as pd
import pytest

from queries.bigquery import without_comments
from queries.query_spec import DTYPES, run_query
from queries.registry import QUERIES, RELATION_FILES
from queries.sql_files import SQL_DIR
from tests.query_examples import EXAMPLES, example_cases
from tests.snapshot_support import BOUNDS, DescribedBackend, described_backends

# DuckDB binds $name, BigQuery @name; the SQL files' comments name parameters too.
BOUND_NAME = re.compile(r"[$@]([a-z_][a-z0-9_]*)")
BACKENDS = described_backends()
SPECS = [pytest.param(spec, id=name) for name, spec in QUERIES.items()]


def rendered(spec, backend, view) -> tuple[str, dict]:
    return spec.render(backend, view, BOUNDS if spec.bounds else None)


def is_declared(name: str, declared: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in declared)


def test_every_query_has_examples_and_every_sql_file_a_query():
    assert set(EXAMPLES) == set(QUERIES)
    used = {name for spec in QUERIES.values() for name in (spec.name, *spec.includes)}
    assert {path.stem for path in SQL_DIR.glob("*.sql")} == used | set(RELATION_FILES)


@pytest.mark.parametrize("spec", SPECS)
def test_sql_files_exist(spec):
    for name in (spec.name, *spec.includes):
        assert (SQL_DIR / f"{name}.sql").is_file(), name


@pytest.mark.parametrize(("name", "case", "view"), [
    pytest.param(name, case, view, id=f"{name}.{case}") for name, case, view in example_cases()
])
def test_examples_are_views_of_their_query(name, case, view):
    spec = QUERIES[name]
    assert view is None if spec.view is None else isinstance(view, spec.view)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("dialect", BACKENDS)
def test_rendered_sql_binds_exactly_the_declared_parameters(spec, dialect):
    used = set()
    for view in EXAMPLES[spec.name].values():
        sql, params = rendered(spec, BACKENDS[dialect], view)
        assert set(BOUND_NAME.findall(without_comments(sql))) == set(params)
        assert all(is_declared(name, spec.parameters) for name in params), sorted(params)
        used |= set(params)
    # A declaration no example binds is stale, or lacks an example.
    assert all(any(fnmatchcase(name, p) for name in used) for p in spec.parameters)


@pytest.mark.parametrize("spec", SPECS)
def test_empty_frame_has_the_declared_schema(spec):
    frame = spec.empty_frame()
    assert frame.empty and list(frame.columns) == list(spec.columns)
    assert [frame[name].dtype for name in spec.columns] == [
        pd.Series(dtype=DTYPES[kind]).dtype for kind in spec.columns.values()
    ]
    pd.testing.assert_frame_equal(spec.typed(spec.empty_frame()), frame)


class WithoutData(DescribedBackend):
    """Answers the span query as an empty events table does, and nothing else."""

    def run(self, sql: str, params: dict) -> pd.DataFrame:
        assert sql.startswith("-- query: data_bounds\n"), "ran a query over no data"
        return pd.DataFrame({"first_day": [None], "last_day": [None], "events": [0]})


@pytest.mark.parametrize("spec", [s for s in SPECS if s.values[0].bounds is not None])
def test_without_data_a_calendar_query_returns_its_empty_frame(spec):
    backend = WithoutData(BACKENDS["duckdb"].dialect, materialised_user_periods=True)
    view = next(iter(EXAMPLES[spec.name].values()))
    pd.testing.assert_frame_equal(run_query(backend, spec, view), spec.empty_frame())
