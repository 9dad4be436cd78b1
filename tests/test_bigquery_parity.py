"""Every export returns the same rows on BigQuery as on DuckDB, from the same SQL files.

BigQuery is the real google-cloud-bigquery client talking to the emulator on loopback
(tests/bq_emulator.py); the same event logs the DuckDB tests use are loaded into both. Every SQL
text sent to BigQuery is also parsed with sqlglot's BigQuery dialect, since the emulator is more
lenient than BigQuery, and checked for the forms that differ between them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pandas as pd
import pyarrow as pa
import pytest
import sqlglot
from cachelib import NullCache

from app.cli import EXPORTS, build_parser
from app.config import Config
from app.csv_export import write_csv
from app.demo import generate_demo
from app.storage import Source, load
from queries.backends import BackendError, DuckDBBackend
from queries.bigquery import BigQueryBackend, BigQuerySettings
from queries.cache import CachedBackend
from queries.query_log import collecting
from tests.bq_emulator import ASSIGNMENTS_SCHEMA, load_frame
from tests.cli import ok, run_cli
from tests.conftest import events_table
from tests.test_funnel_sql import LOGS as FUNNEL_LOGS
from tests.test_retention_sql import LOGS as RETENTION_LOGS
from tests.test_revenue_sql import LOGS as REVENUE_LOGS

DEMO_END = dt.date(2025, 6, 18)  # a Wednesday: the last week and month are incomplete
EXPERIMENTS = {
    "onboarding_flow": {"variants": {"A": 50, "B": 50}},
    "hashed_banner": {"variants": {"A": 1, "B": 1, "C": 2}, "salt": "banner-2025",
                      "start": "2025-04-01"},
}

DEMO_EXPORTS = {
    "growth_day": ["growth", "--grain", "day"],
    "growth_week": ["growth", "--grain", "week"],
    "growth_month": ["growth", "--grain", "month"],
    "growth_filtered": ["growth", "--grain", "week", "--start", "2025-03-01", "--end",
                        "2025-05-31", "--filter", "platform=ios", "--filter", "platform=web"],
    "retention_day": ["retention", "--grain", "day", "--start", "2025-05-01"],
    "retention_week": ["retention", "--grain", "week"],
    "retention_month_unbounded": ["retention", "--grain", "month", "--mode", "unbounded"],
    "retention_purchases": ["retention", "--grain", "week", "--start-event", "purchase",
                            "--return-event", "purchase", "--filter", "country=US"],
    "revenue_day": ["revenue", "--grain", "day", "--start", "2025-04-01"],
    "revenue_week": ["revenue", "--grain", "week"],
    "revenue_month_filtered": ["revenue", "--grain", "month", "--filter", "platform=android"],
    "revenue_window": ["revenue-window", "--start", "2025-05-01", "--end", "2025-05-31"],
    "funnel": ["funnel"],
    "funnel_filtered": ["funnel", "--steps", "page_view,purchase,purchase", "--window-days",
                        "2", "--start", "2025-02-01", "--end", "2025-04-30",
                        "--filter", "platform=web"],
    "ab_checkout": ["ab", "--experiment", "checkout_button"],
    "ab_onboarding_declared": ["ab", "--experiment", "onboarding_flow"],
    "ab_pricing_window": ["ab", "--experiment", "pricing_page", "--window-days", "7",
                          "--start", "2025-03-01", "--filter", "platform=ios"],
    "ab_hashed": ["ab", "--experiment", "hashed_banner", "--conversion-event", "add_to_cart"],
    "growth_breakdown": ["growth", "--grain", "week", "--breakdown", "country"],
    "retention_breakdown": ["retention", "--grain", "month", "--breakdown", "utm_source",
                            "--filter", "platform=ios"],
    "stickiness_week": ["stickiness", "--grain", "week"],
    "stickiness_month_filtered": ["stickiness", "--grain", "month", "--start", "2025-02-01",
                                  "--filter", "platform=ios"],
    "engagement": ["engagement"],
    "engagement_filtered": ["engagement", "--start", "2025-04-01", "--end", "2025-05-15",
                            "--filter", "event_type=purchase"],
    "ltv_month": ["ltv", "--grain", "month"],
    "ltv_week_filtered": ["ltv", "--grain", "week", "--start", "2025-03-01",
                          "--filter", "country=US"],
    "ltv_day": ["ltv", "--grain", "day", "--start", "2025-06-01"],
    "ab_revenue_cuped": ["ab", "--experiment", "free_shipping", "--metric", "revenue_per_user",
                         "--cuped"],
    "ab_aov_breakdown_sequential": ["ab", "--experiment", "pricing_page", "--metric", "aov",
                                    "--breakdown", "platform", "--sequential",
                                    "--window-days", "7"],
    "ab_orders_hashed_filtered": ["ab", "--experiment", "hashed_banner", "--metric",
                                  "orders_per_user", "--filter", "platform=ios"],
    "ab_column_sum": ["ab", "--experiment", "checkout_button", "--metric", "sum:country"],
    "ab_conversion_sequential": ["ab", "--experiment", "checkout_button", "--sequential",
                                 "--pre-days", "7"],
}
LOG_EXPORTS = {
    "growth_day": ["growth", "--grain", "day"],
    "growth_week": ["growth", "--grain", "week"],
    "growth_month": ["growth", "--grain", "month"],
    "retention_week": ["retention", "--grain", "week"],
    "retention_month": ["retention", "--grain", "month", "--mode", "unbounded"],
    "revenue_week": ["revenue", "--grain", "week"],
    "revenue_month": ["revenue", "--grain", "month"],
    "funnel": ["funnel"],
}
HAND_LOGS = {
    "revenue_shop": REVENUE_LOGS["SHOP"],
    "revenue_month_ends": REVENUE_LOGS["MONTH_ENDS"],
    "retention_weekly": RETENTION_LOGS["WEEKLY"],
    "retention_month_ends": RETENTION_LOGS["MONTH_ENDS"],
    "funnel_repeats": FUNNEL_LOGS["REPEATS"],
    "funnel_null_segment": FUNNEL_LOGS["NULL_SEGMENT"],
}


class Pair:
    """The same data on both backends, and the exports of both as parsed CSV."""

    def __init__(self, duckdb_path, settings: BigQuerySettings):
        self.duckdb = Config(duckdb_path=duckdb_path, experiments=EXPERIMENTS)
        self.bigquery = Config(backend="bigquery", bigquery=settings, experiments=EXPERIMENTS)
        self.duckdb_backend = DuckDBBackend(duckdb_path)
        self.bigquery_backend = BigQueryBackend(settings)

    def export(self, backend, config: Config, args: list[str]) -> pd.DataFrame:
        parsed = build_parser().parse_args(["export", *args])
        frame = EXPORTS[parsed.table](CachedBackend(backend, NullCache()), parsed, config)
        text = io.StringIO()
        write_csv(frame, text)
        return pd.read_csv(io.StringIO(text.getvalue()))

    def compare(self, args: list[str]) -> list[str]:
        """Asserts both backends export the same rows; returns the SQL sent to BigQuery."""
        expected = self.export(self.duckdb_backend, self.duckdb, args)
        with collecting() as records:
            actual = self.export(self.bigquery_backend, self.bigquery, args)
        assert len(expected) > 0
        pd.testing.assert_frame_equal(actual, expected, check_dtype=False, rtol=1e-9)
        assert {record.backend for record in records} == {"bigquery"}
        return [record.sql for record in records]


def arrow_schema_fields(table: pa.Table) -> list[tuple[str, str]]:
    types = {pa.timestamp("us"): "TIMESTAMP", pa.string(): "STRING", pa.float64(): "FLOAT64"}
    return [(field.name, types[field.type]) for field in table.schema]


def load_both(tmp_path, bigquery_emulator, dataset: str, events: pa.Table,
              assignments: pa.Table | None = None) -> Pair:
    path = tmp_path / f"{dataset}.duckdb"
    load(path, Source(f"{dataset}-events", table=events),
         Source(f"{dataset}-assignments", table=assignments) if assignments else None)
    client = bigquery_emulator.client()
    load_frame(client, f"{dataset}.events", events, arrow_schema_fields(events))
    if assignments is not None:
        load_frame(client, f"{dataset}.assignments", assignments, ASSIGNMENTS_SCHEMA)
    settings = BigQuerySettings(
        project=bigquery_emulator.project, dataset=dataset,
        assignments_table="assignments" if assignments is not None else None,
        api_endpoint=bigquery_emulator.endpoint,
    )
    return Pair(path, settings)


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory, bigquery_emulator):
    data = generate_demo(users=1500, seed=3, end_date=DEMO_END)
    return load_both(tmp_path_factory.mktemp("parity"), bigquery_emulator, "demo",
                     data.events, data.assignments)


@pytest.fixture(scope="module")
def log_pairs(tmp_path_factory, bigquery_emulator):
    folder = tmp_path_factory.mktemp("logs")
    return {
        name: load_both(folder, bigquery_emulator, name, events_table(rows, segments))
        for name, (rows, segments) in HAND_LOGS.items()
    }


def strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def assert_valid_bigquery(sql: str) -> None:
    """One GoogleSQL statement, every parameter in @ form, and none of the forms that differ
    between BigQuery and its emulator (Sunday weeks from WEEK, ISOWEEK, DATE_TRUNC)."""
    statements = sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(statements) == 1
    code = strip_comments(sql)
    assert "$" not in code
    assert not re.search(r"\b(WEEK|ISOWEEK|DATE_TRUNC|TIMESTAMP_TRUNC)\b", code, re.IGNORECASE)
    # The emulator drops the parentheses of DIV's compound arguments.
    for arguments in re.findall(r"DIV\((.*?), ", code):
        assert re.fullmatch(r"\(.*\)|[\w.]+", arguments), arguments


@pytest.mark.parametrize("name", DEMO_EXPORTS)
def test_demo_exports_match_duckdb(demo_pair, name):
    for sql in demo_pair.compare(DEMO_EXPORTS[name]):
        assert_valid_bigquery(sql)


@pytest.mark.parametrize("log", HAND_LOGS)
def test_hand_made_logs_export_the_same_on_both(log_pairs, log):
    for args in LOG_EXPORTS.values():
        for sql in log_pairs[log].compare(args):
            assert_valid_bigquery(sql)


def test_weeks_start_on_monday_on_bigquery(demo_pair):
    weeks = demo_pair.export(demo_pair.bigquery_backend, demo_pair.bigquery,
                             ["growth", "--grain", "week"])
    starts = pd.to_datetime(weeks["period_start"])
    assert (starts.dt.dayofweek == 0).all()
    # Every calendar week from the first to the one holding the last day, none skipped.
    assert (starts.diff().dropna() == pd.Timedelta(days=7)).all()
    assert starts.iloc[-1] == pd.Timestamp("2025-06-16")


def test_a_table_with_other_column_names_is_mapped_without_copying(
    tmp_path, bigquery_emulator
):
    data = generate_demo(users=300, seed=8, end_date=DEMO_END).events
    renamed = data.rename_columns(
        ["created_at", "customer_id", "action", "amount", "platform", "country", "utm_source"]
    )
    client = bigquery_emulator.client()
    load_frame(client, "mapped.raw_events", renamed, arrow_schema_fields(renamed))
    mapped = BigQueryBackend(BigQuerySettings(
        project=bigquery_emulator.project, dataset="mapped", events_table="raw_events",
        events_columns={"event_time": "created_at", "user_id": "customer_id",
                        "event_type": "action", "revenue": "amount"},
        api_endpoint=bigquery_emulator.endpoint,
    ))
    assert mapped.event_columns() == [
        "event_time", "user_id", "event_type", "revenue", "platform", "country", "utm_source",
    ]
    pair = load_both(tmp_path, bigquery_emulator, "unmapped", data)
    pair.bigquery_backend = mapped
    pair.compare(["growth", "--grain", "week", "--filter", "platform=ios"])
    pair.compare(["revenue", "--grain", "month"])
    # No copy was made: the dataset holds only the table loaded above.
    assert [t.table_id for t in client.list_tables("mapped")] == ["raw_events"]
    unmapped = BigQueryBackend(BigQuerySettings(
        project=bigquery_emulator.project, dataset="mapped", events_table="raw_events",
        api_endpoint=bigquery_emulator.endpoint,
    ))
    with pytest.raises(BackendError, match="raw_events has no column 'event_time'"):
        pair.export(unmapped, pair.bigquery, ["growth"])


def test_the_command_line_exports_from_bigquery(demo_pair, bigquery_emulator):
    settings = demo_pair.bigquery.bigquery
    env = {
        "BACKEND": "bigquery", "BQ_PROJECT": settings.project, "BQ_DATASET": "demo",
        "BQ_ASSIGNMENTS_TABLE": "assignments", "BQ_API_ENDPOINT": bigquery_emulator.endpoint,
        "EXPERIMENTS": json.dumps(EXPERIMENTS),
    }
    on_bigquery = ok(run_cli("export", "growth", "--grain", "month", env_extra=env))
    on_duckdb = ok(run_cli("export", "growth", "--grain", "month", "--db",
                           demo_pair.duckdb.duckdb_path))
    assert pd.read_csv(io.StringIO(on_bigquery)).equals(pd.read_csv(io.StringIO(on_duckdb)))
    missing = run_cli("export", "growth", env_extra=env | {"BQ_DATASET": "nosuch"})
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.startswith("error: ") and "Traceback" not in missing.stderr


def test_the_dashboard_renders_from_bigquery(demo_pair):
    from callbacks.panel import PanelContext
    from callbacks.registry import serve_layout
    from tests.test_app import component_ids, growth_callbacks_update

    backend = CachedBackend(demo_pair.bigquery_backend, NullCache())
    page = serve_layout(PanelContext(backend, demo_pair.bigquery))
    found = json.dumps(component_ids(page), default=str)
    assert '"segment-filter"' in found and '"column": "utm_source"' in found
    status, kpis, _figure, _charts, rows, _ = growth_callbacks_update(backend, grain="month")
    assert len(kpis) == 7 and "–" not in kpis and "could not be loaded" not in str(status)
    expected = demo_pair.export(demo_pair.duckdb_backend, demo_pair.duckdb,
                                ["growth", "--grain", "month"])
    assert [row["active_users"] for row in rows] == list(expected["active_users"])


def test_repeated_views_are_served_from_the_app_cache_not_billed_again(demo_pair):
    from cachelib import SimpleCache

    backend = CachedBackend(demo_pair.bigquery_backend, SimpleCache())
    args = build_parser().parse_args(["export", "revenue", "--grain", "month"])
    with collecting() as first:
        EXPORTS["revenue"](backend, args, demo_pair.bigquery)
    with collecting() as second:
        EXPORTS["revenue"](backend, args, demo_pair.bigquery)
    assert [r.cache_hit for r in first] == [False] * len(first)
    assert [r.cache_hit for r in second] == [True] * len(first)
    # BigQuery's own figures travel with each miss: bytes processed, and its cache's answer.
    assert all(r.bytes_processed is not None and r.backend_cache_hit is not None for r in first)
    assert all(r.bytes_processed is None for r in second)
