"""Puts the generated demo data into the DuckDB file through the same loader as real files."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from app.config import Config
from app.storage import Source, database_is_empty, load, previous_loads
from app.validation import LoadError, Problem

DEMO_EVENTS = "demo-events"
DEMO_ASSIGNMENTS = "demo-assignments"


def write_demo(
    db_path: Path, users: int, seed: int | None = None, end_date: dt.date | None = None,
    replace: bool = False,
) -> None:
    from app.demo import DEFAULT_SEED, generate_demo

    own_data = [name for _, name, _, _ in previous_loads(db_path) if not name.startswith("demo-")]
    if own_data and not replace:
        raise LoadError(db_path, [Problem(
            f"the database already holds your data ({', '.join(own_data[:3])}); the demo would"
            " mix with it. Use another --db, or --replace to add the demo anyway."
        )])
    seed = DEFAULT_SEED if seed is None else seed
    print(f"generating demo data for {users:,} users (seed {seed}) ...", file=sys.stderr)
    data = generate_demo(users=users, seed=seed, end_date=end_date)
    # Naming the demo load lets a later demo run replace it instead of adding to it.
    load(
        db_path,
        Source(DEMO_EVENTS, table=data.events),
        Source(DEMO_ASSIGNMENTS, table=data.assignments),
        replace=True,
    )


def ensure_data(config: Config) -> None:
    """`python -m app` on an empty database creates the demo first, so the page has data."""
    if config.backend == "duckdb" and database_is_empty(config.duckdb_path):
        write_demo(config.duckdb_path, users=config.demo_users)
