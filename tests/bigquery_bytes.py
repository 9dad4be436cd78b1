"""Estimates the bytes BigQuery would bill for each default view of the page, reading the events
table alone and reading the histories `build` writes. A benchmark script, not a test:

    python tests/bigquery_bytes.py [--users 20000]

The emulator's dry run reports 0 bytes, so the figures are estimated as BigQuery prices a query:
for each table a query reads, the size of every column it reads, over all rows (a string
2 bytes + its UTF-8 length, a number, timestamp or date 8 bytes, NULL nothing). The columns a
query reads come from sqlglot: the SQL is qualified and its unused subquery columns pruned, as
BigQuery's planner does. A query a view repeats counts once, as the app's cache serves the
repeat. The data is the demo's, loaded into the emulator and built there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import sqlglot
from cachelib import NullCache
from sqlglot import exp
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Config
from app.demo import generate_demo
from app.warm import default_views
from queries.bigquery import BigQueryBackend, BigQuerySettings, without_comments
from queries.bigquery_build import build
from queries.cache import CachedBackend
from queries.query_log import collecting
from tests.bq_emulator import load_frame, running_emulator
from tests.test_bigquery_parity import arrow_schema_fields

FIXED_WIDTH = 8
VERBOSE = "--verbose" in sys.argv


def column_bytes(frame: pd.DataFrame) -> dict[str, int]:
    sizes = {}
    for name in frame.columns:
        values = frame[name].dropna()
        if values.dtype == object and len(values) and isinstance(values.iloc[0], str):
            sizes[name] = int(values.str.len().sum() + 2 * len(values))  # ASCII demo values
        else:
            sizes[name] = FIXED_WIDTH * len(values)
    return sizes


def table_sizes(client, tables: list[str]) -> dict[str, dict[str, int]]:
    sizes = {}
    for table in tables:
        frame = client.query(f"select * from `{table}`").result().to_arrow(
            create_bqstorage_client=False).to_pandas()
        sizes[table] = column_bytes(frame)
    return sizes


def columns_read(sql: str, schema: dict) -> dict[str, set[str]]:
    """Table -> the columns a query reads from it, as BigQuery prunes them."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    tree = pushdown_projections(qualify(tree, schema=schema, dialect="bigquery",
                                        validate_qualify_columns=False))
    read: dict[str, set[str]] = {}
    for scope in traverse_scope(tree):
        for alias, (_node, source) in scope.selected_sources.items():
            if isinstance(source, exp.Table):
                name = ".".join(part.name for part in source.parts)
                columns = {c.name for c in scope.columns if c.table == alias}
                if any(isinstance(e, exp.Star) for e in scope.expression.expressions):
                    columns |= set(schema_columns(schema, name))
                read.setdefault(name, set()).update(columns)
    return read


def schema_columns(schema: dict, table: str) -> dict:
    project, dataset, name = table.split(".")
    return schema.get(project, {}).get(dataset, {}).get(name, {})


def nested_schema(sizes: dict[str, dict[str, int]]) -> dict:
    schema: dict = {}
    for table, columns in sizes.items():
        project, dataset, name = table.split(".")
        schema.setdefault(project, {}).setdefault(dataset, {})[name] = dict.fromkeys(
            columns, "STRING")
    return schema


def view_bytes(backend, config: Config, sizes: dict) -> dict[str, int]:
    schema = nested_schema(sizes)
    totals = {}
    for name, run in default_views(backend, config):
        with collecting() as records:
            run()
        total, seen = 0, set()
        for record in records:
            sql = backend.dialect.bind_parameters(without_comments(record.sql))
            key = (sql, repr(sorted(record.params.items())))
            if key in seen:  # the app's cache serves a repeat
                continue
            seen.add(key)
            for table, columns in columns_read(sql, schema).items():
                read = sum(sizes.get(table, {}).get(column, 0) for column in columns)
                total += read
                if VERBOSE:
                    print(f"  {name} {record.sql.splitlines()[0]} {table.split('.', 1)[1]}"
                          f" {sorted(columns)} {read / 1e6:.2f} MB", file=sys.stderr)
        totals[name] = total
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--verbose", action="store_true", help="each query's tables and columns")
    args = parser.parse_args()
    data = generate_demo(users=args.users, seed=1, end_date=dt.date(2025, 6, 18))
    with running_emulator("bytes-estimate") as emulator, tempfile.TemporaryDirectory():
        client = emulator.client()
        load_frame(client, "demo.events", data.events, arrow_schema_fields(data.events))
        raw = BigQuerySettings(project=emulator.project, dataset="demo",
                               api_endpoint=emulator.endpoint, timeout_seconds=600)
        built = replace(raw, build_dataset="histories")
        build(BigQueryBackend(built))
        tables = [f"{emulator.project}.demo.events"] + [
            f"{emulator.project}.histories.{t.table_id}" for t in client.list_tables("histories")
            if t.table_id != "build_state"]
        sizes = table_sizes(client, tables)
        results = {}
        for label, settings in (("events only", raw), ("with histories", built)):
            backend = CachedBackend(BigQueryBackend(settings), NullCache())
            results[label] = view_bytes(backend, Config(backend="bigquery", bigquery=settings),
                                        sizes)
    events = data.events.num_rows
    print(f"demo: {args.users:,} users, {events:,} events; events table"
          f" {sum(sizes[tables[0]].values()) / 1e6:.1f} MB")
    print(f"{'view':<16} {'events only':>14} {'with histories':>16}")
    for name in results["events only"]:
        before, after = results["events only"][name], results["with histories"][name]
        print(f"{name:<16} {before / 1e6:>11.1f} MB {after / 1e6:>13.1f} MB")


if __name__ == "__main__":
    main()
