"""The SQL every registered query sends, on DuckDB and BigQuery, against committed snapshots.

A change to a query's SQL, its fragments or its parameters shows up as a diff of
tests/snapshots/<dialect>/<query>.<case>.sql in review. After an intended change, rewrite the
files with `UPDATE_SNAPSHOTS=1 python -m pytest tests/test_sql_snapshots.py` and commit them.
The result tests (tests/test_*_sql.py, the BigQuery parity test) say whether the SQL is right;
these say that it changed.
"""

from __future__ import annotations

import pytest

from queries.registry import QUERIES
from tests.query_examples import example_cases
from tests.snapshot_support import (
    BOUNDS,
    SNAPSHOT_DIR,
    UPDATE,
    compare_snapshot,
    described_backends,
    snapshot_path,
    snapshot_text,
)

BACKENDS = described_backends()
CASES = [
    pytest.param(dialect, name, case, view, id=f"{dialect}-{name}.{case}")
    for dialect in BACKENDS
    for name, case, view in example_cases()
]


@pytest.mark.parametrize(("dialect", "name", "case", "view"), CASES)
def test_rendered_sql_matches_snapshot(dialect, name, case, view):
    spec = QUERIES[name]
    sql, params = spec.render(BACKENDS[dialect], view, BOUNDS if spec.bounds else None)
    problem = compare_snapshot(snapshot_path(dialect, f"{name}.{case}"), snapshot_text(sql, params))
    if problem:
        pytest.fail(problem, pytrace=False)


def test_every_snapshot_file_belongs_to_an_example():
    """A renamed or removed example must not leave a stale snapshot behind."""
    expected = {
        snapshot_path(dialect, f"{name}.{case}")
        for dialect in BACKENDS for name, case, _ in example_cases()
    }
    stale = set(SNAPSHOT_DIR.glob("*/*.sql")) - expected
    if UPDATE:
        for path in stale:
            path.unlink()
        stale = set()
    assert not stale, f"snapshots of no example (UPDATE_SNAPSHOTS=1 removes them): {stale}"
