"""BigQuery's other sources on the emulator: the model's SQL over a mapped table and over the
theLook preset, the GA4 export preset (daily tables pruned to the days a view reads), and
`build`, which keeps the user histories in the warehouse and adds only the days that changed.

Every export is compared with DuckDB's for the same events (tests/test_bigquery_parity.py's Pair).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from google.cloud import bigquery

from app.config import Config
from app.demo import generate_demo
from queries.ask import AskContext, ask
from queries.bigquery import BigQueryBackend, BigQuerySettings
from queries.bigquery_build import build
from queries.cache import CachedBackend
from queries.growth import GrowthQuery
from queries.periods import Grain
from tests.bq_emulator import load_frame
from tests.scripted_model import ScriptedModel, reply, sql_call
from tests.test_bigquery_parity import Pair, arrow_schema_fields, assert_valid_bigquery, load_both

FIRST_DAY = dt.date(2025, 5, 1)
LAST_DAY = dt.date(2025, 6, 18)  # a Wednesday: the last week and month are incomplete
# GA4's segment columns under the app's names for them.
GA4_NAMES = {"platform": "device_category", "utm_source": "traffic_source"}


def recent_events(users: int = 400, seed: int = 5, last_day: dt.date = LAST_DAY) -> pa.Table:
    """Demo events from FIRST_DAY on (a short span keeps the daily tables few)."""
    events = generate_demo(users=users, seed=seed, end_date=last_day).events
    since = pa.scalar(dt.datetime.combine(FIRST_DAY, dt.time()), pa.timestamp("us"))
    return events.filter(pc.greater_equal(events["event_time"], since))


@pytest.fixture(scope="module")
def model():
    with ScriptedModel() as server:
        yield server


def ask_over_bigquery(settings: BigQuerySettings, model, tmp_path, sql: str):
    config = Config(backend="bigquery", bigquery=settings, openai_api_key="sk-test",
                    openai_base_url=model.base_url, openai_model="scripted",
                    openai_timeout_seconds=10, cache_dir=tmp_path / "cache",
                    background_dir=tmp_path / "jobs")
    model.play(sql_call(sql), reply("- done"))
    backend = CachedBackend(BigQueryBackend(settings), __import__("cachelib").NullCache())
    answer = ask("How many users are there?", AskContext(backend, GrowthQuery(Grain.MONTH)),
                 config)
    return answer, json.loads(model.tool_results(1)[0])


def test_the_model_queries_a_mapped_table(bigquery_emulator, model, tmp_path):
    events = recent_events(users=120, seed=9)
    renamed = events.rename_columns(
        ["created_at", "customer_id", "action", "amount", "platform", "country", "utm_source"])
    load_frame(bigquery_emulator.client(), "ask_mapped.raw_events", renamed,
               arrow_schema_fields(renamed))
    settings = BigQuerySettings(
        project=bigquery_emulator.project, dataset="ask_mapped", events_table="raw_events",
        events_columns={"event_time": "created_at", "user_id": "customer_id",
                        "event_type": "action", "revenue": "amount"},
        api_endpoint=bigquery_emulator.endpoint)
    frame = events.to_pandas()
    answer, result = ask_over_bigquery(
        settings, model, tmp_path,
        "select count(distinct user_id) as users, sum(revenue) as revenue from events"
        " where event_type = 'purchase'")
    buyers = frame[frame["event_type"] == "purchase"]
    assert result["rows"][0][0] == buyers["user_id"].nunique()
    assert result["rows"][0][1] == pytest.approx(buyers["revenue"].sum())
    assert answer.source == "model" and not answer.refused


THELOOK_USERS = [  # id, country, traffic_source
    (1, "Japan", "Search"), (2, "Brasil", "Email"), (3, "Japan", "Organic"), (4, "China", "Search"),
]
THELOOK_WEB = [  # user_id (None: signed out), created_at, event_type, traffic_source, browser
    (1, "2025-03-01 10:00:00", "home", "Search", "Chrome"),
    (1, "2025-03-02 10:00:00", "cart", "Search", "Chrome"),
    (2, "2025-03-05 09:00:00", "home", "Email", "Safari"),
    (None, "2025-03-05 09:30:00", "home", "Email", "Safari"),
]
THELOOK_ORDERS = [  # order_id, user_id, created_at, status
    (10, 1, "2025-03-02 11:00:00", "Complete"),
    (11, 3, "2025-03-06 12:00:00", "Shipped"),
    (12, 4, "2025-03-07 12:00:00", "Cancelled"),
]
THELOOK_ITEMS = [(10, 20.0), (10, 5.5), (11, 12.0), (12, 99.0)]  # order_id, sale_price


def load_thelook(client, dataset: str) -> None:
    def table(rows, columns):
        frame = pd.DataFrame(rows, columns=[name for name, _ in columns])
        for name, kind in columns:
            if kind == "TIMESTAMP":
                frame[name] = pd.to_datetime(frame[name])
            if kind == "INT64":
                frame[name] = frame[name].astype("Int64")
        return frame, columns

    tables = {
        "users": table(THELOOK_USERS, [("id", "INT64"), ("country", "STRING"),
                                       ("traffic_source", "STRING")]),
        "events": table(THELOOK_WEB, [("user_id", "INT64"), ("created_at", "TIMESTAMP"),
                                      ("event_type", "STRING"), ("traffic_source", "STRING"),
                                      ("browser", "STRING")]),
        "orders": table(THELOOK_ORDERS, [("order_id", "INT64"), ("user_id", "INT64"),
                                         ("created_at", "TIMESTAMP"), ("status", "STRING")]),
        "order_items": table(THELOOK_ITEMS, [("order_id", "INT64"), ("sale_price", "FLOAT64")]),
    }
    for name, (frame, columns) in tables.items():
        load_frame(client, f"{dataset}.{name}", frame, columns)


def test_the_model_queries_the_thelook_preset(bigquery_emulator, model, tmp_path):
    load_thelook(bigquery_emulator.client(), "look")
    settings = BigQuerySettings(project=bigquery_emulator.project, dataset="look",
                                preset="thelook_ecommerce", api_endpoint=bigquery_emulator.endpoint)
    _, result = ask_over_bigquery(
        settings, model, tmp_path,
        "select e.event_type, count(*) as n, sum(e.revenue) as revenue, count(distinct user_id)"
        " as users from events e group by e.event_type order by e.event_type")
    # By hand: signed-in web events (the signed-out one is not an event of a user), and one
    # order event per order not cancelled, with its items' total.
    assert result["rows"] == [["cart", 1, None, 1], ["home", 2, None, 2],
                              ["order", 2, 37.5, 2]]


def ga4_rows(events: pa.Table, shard_hours: int = 2) -> dict[str, list[dict]]:
    """GA4 export rows by daily table. The tables follow the property's time zone (UTC+2 here),
    so an event late in a UTC day lands in the next day's table."""
    shards: dict[str, list[dict]] = {}
    for row in events.to_pylist():
        when = row["event_time"].replace(tzinfo=dt.UTC)
        local_day = (when + dt.timedelta(hours=shard_hours)).date()
        shards.setdefault(f"events_{local_day:%Y%m%d}", []).append({
            "event_date": f"{local_day:%Y%m%d}",
            "event_timestamp": int(when.timestamp() * 1_000_000),
            "event_name": row["event_type"],
            "user_pseudo_id": row["user_id"],
            "ecommerce": {"purchase_revenue": row["revenue"], "transaction_id": None},
            "device": {"category": row["platform"], "operating_system": "Android"},
            "geo": {"country": row["country"], "city": "Springfield"},
            "traffic_source": {"source": row["utm_source"], "medium": "cpc"},
        })
    return shards


GA4_SCHEMA = [
    bigquery.SchemaField("event_date", "STRING"),
    bigquery.SchemaField("event_timestamp", "INT64"),
    bigquery.SchemaField("event_name", "STRING"),
    bigquery.SchemaField("user_pseudo_id", "STRING"),
    bigquery.SchemaField("ecommerce", "RECORD", fields=[
        bigquery.SchemaField("purchase_revenue", "FLOAT64"),
        bigquery.SchemaField("transaction_id", "STRING")]),
    bigquery.SchemaField("device", "RECORD", fields=[
        bigquery.SchemaField("category", "STRING"),
        bigquery.SchemaField("operating_system", "STRING")]),
    bigquery.SchemaField("geo", "RECORD", fields=[
        bigquery.SchemaField("country", "STRING"), bigquery.SchemaField("city", "STRING")]),
    bigquery.SchemaField("traffic_source", "RECORD", fields=[
        bigquery.SchemaField("source", "STRING"), bigquery.SchemaField("medium", "STRING")]),
]


def load_ga4(client, dataset: str, shards: dict[str, list[dict]]) -> None:
    client.create_dataset(dataset, exists_ok=True)
    config = bigquery.LoadJobConfig(schema=GA4_SCHEMA,
                                    write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
    for name, rows in shards.items():
        client.load_table_from_json(rows, f"{client.project}.{dataset}.{name}",
                                    job_config=config).result()


def ga4_pair(tmp_path, emulator, dataset: str, events: pa.Table, extra_shards=None) -> Pair:
    duckdb_events = events.rename_columns([GA4_NAMES.get(n, n) for n in events.column_names])
    pair = load_both(tmp_path, emulator, f"{dataset}_duckdb", duckdb_events)
    load_ga4(emulator.client(), dataset, ga4_rows(events) | (extra_shards or {}))
    settings = BigQuerySettings(project=emulator.project, dataset=dataset, preset="ga4",
                                api_endpoint=emulator.endpoint)
    pair.bigquery_backend = BigQueryBackend(settings)
    pair.bigquery = Config(backend="bigquery", bigquery=settings)
    return pair


GA4_EXPORTS = {
    "growth_week": ["growth", "--grain", "week"],
    "growth_ranged": ["growth", "--grain", "week", "--start", "2025-05-12", "--end",
                      "2025-06-01", "--filter", "device_category=ios"],
    "retention_week": ["retention", "--grain", "week"],
    "revenue_day": ["revenue", "--grain", "day", "--start", "2025-06-01", "--end", "2025-06-10"],
    "revenue_month_filtered": ["revenue", "--grain", "month", "--filter", "country=US"],
    "revenue_window": ["revenue-window", "--start", "2025-06-01", "--end", "2025-06-07"],
    "stickiness": ["stickiness", "--grain", "week", "--start", "2025-05-19", "--end",
                   "2025-06-08"],
    "engagement": ["engagement", "--start", "2025-06-01", "--end", "2025-06-12",
                   "--filter", "traffic_source=google"],
    "funnel": ["funnel"],
    "ltv": ["ltv", "--grain", "week"],
}


@pytest.fixture(scope="module")
def ga4(tmp_path_factory, bigquery_emulator):
    events = recent_events()
    purchases = pc.equal(events["event_type"], "purchase")
    # GA4 keeps revenue on purchases only: the demo's orders are all purchases.
    assert pc.all(pc.equal(pc.is_valid(events["revenue"]), purchases)).as_py()
    return ga4_pair(tmp_path_factory.mktemp("ga4"), bigquery_emulator, "ga4_export", events)


def test_the_ga4_preset_reads_its_columns(ga4):
    assert ga4.bigquery_backend.event_columns() == [
        "event_time", "user_id", "event_type", "revenue", "device_category", "country",
        "traffic_source"]


@pytest.mark.parametrize("name", GA4_EXPORTS)
def test_ga4_exports_match_duckdb(ga4, name):
    for sql in ga4.compare(GA4_EXPORTS[name]):
        assert_valid_bigquery(sql)
        assert "events_*" in sql


def test_a_view_reads_only_the_daily_tables_of_its_days(tmp_path, bigquery_emulator):
    """One order sits in a table dated years later than its timestamp: views that read every
    day count it, views pruned to their days do not."""
    events = recent_events(users=150, seed=12)
    misfiled = ga4_rows(pa.Table.from_pylist([{
        "event_time": dt.datetime(2025, 6, 3, 12), "user_id": "late-user",
        "event_type": "purchase", "revenue": 1000.0, "platform": "web", "country": "US",
        "utm_source": "google"}], schema=events.schema))
    shards = {"events_20301231": next(iter(misfiled.values()))}
    pair = ga4_pair(tmp_path, bigquery_emulator, "ga4_misfiled", events, shards)
    window = ["revenue-window", "--start", "2025-06-01", "--end", "2025-06-07"]
    pruned = pair.export(pair.bigquery_backend, pair.bigquery, window)
    expected = pair.export(pair.duckdb_backend, pair.duckdb, window)
    pd.testing.assert_frame_equal(pruned, expected, check_dtype=False)
    # Read whole, the same data holds the order: 1000 more revenue in that week.
    whole = pair.export(pair.bigquery_backend, pair.bigquery, ["revenue", "--grain", "week"])
    unpruned = pair.export(pair.duckdb_backend, pair.duckdb, ["revenue", "--grain", "week"])
    week = whole["period_start"] == "2025-06-02"
    assert whole.loc[week, "revenue"].iloc[0] == pytest.approx(
        unpruned.loc[unpruned["period_start"] == "2025-06-02", "revenue"].iloc[0] + 1000)


class RecordingBackend(BigQueryBackend):
    """The real backend, keeping every statement it runs with its parameters."""

    def __init__(self, settings):
        super().__init__(settings)
        self.statements: list[tuple[str, dict]] = []

    def run(self, sql, params):
        self.statements.append((sql, dict(params)))
        return super().run(sql, params)

    def rebuilds(self) -> list[dict]:
        return [params for sql, params in self.statements if "create or replace table" in sql]


BUILD_EXPORTS = [
    ["growth", "--grain", "week"], ["growth", "--grain", "month", "--filter", "platform=ios"],
    ["growth", "--grain", "day", "--start", "2025-06-01"],
    ["retention", "--grain", "week"], ["revenue", "--grain", "month"],
    ["engagement", "--start", "2025-06-01"], ["stickiness", "--grain", "week"],
]


def built_tables(client, dataset: str) -> dict[str, pd.DataFrame]:
    """Every history and activity table of a build dataset, sorted, for comparing builds."""
    tables = {}
    for item in client.list_tables(dataset):
        if item.table_id.startswith(("user_periods_", "activity_")):
            frame = client.query(f"select * from `{client.project}.{dataset}.{item.table_id}`") \
                .result().to_arrow(create_bqstorage_client=False).to_pandas()
            tables[item.table_id] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return tables


def assert_same_tables(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected) and len(expected) == 6
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(actual[name], frame, check_dtype=False)


def fresh_build_of(client, settings, dataset: str) -> dict:
    build(BigQueryBackend(replace(settings, build_dataset=dataset)))
    return built_tables(client, dataset)


def test_build_adds_only_new_days_and_rebuilds_from_an_older_change(tmp_path, bigquery_emulator):
    client = bigquery_emulator.client()
    events = recent_events(users=250, seed=21)
    cut = pa.scalar(dt.datetime(2025, 6, 16), pa.timestamp("us"))  # a Monday
    early = events.filter(pc.less(events["event_time"], cut))
    before = load_both(tmp_path, bigquery_emulator, "build_source", early)
    settings = replace(before.bigquery.bigquery, build_dataset="build_histories")

    backend = RecordingBackend(settings)
    assert not backend.materialised_user_periods  # nothing built yet
    first = build(backend)
    assert first.full and first.first_day == FIRST_DAY and first.changed_days == 0
    assert first.new_days == len(set(early["event_time"].to_pandas().dt.date))
    assert "built the user histories from 2025-05-01" in first.describe()
    assert BigQueryBackend(settings).materialised_user_periods
    check_exports(before, settings, reads_histories=True)

    # Three new days arrive (the table is written anew, as a load would).
    after = load_both(tmp_path, bigquery_emulator, "build_all", events)
    load_frame(client, "build_source.events", events, arrow_schema_fields(events))
    stale = BigQueryBackend(settings)
    assert not stale.materialised_user_periods  # the events changed since the build
    check_exports(after, settings, reads_histories=False)
    backend = RecordingBackend(settings)
    second = build(backend)
    assert (second.full, second.first_day, second.new_days, second.changed_days) == (
        False, dt.date(2025, 6, 16), 3, 0)
    # Only the events since each grain's first rebuilt period were read: a day, the week of
    # Monday the 16th, and June for months.
    since = sorted({params["since_time"] for params in backend.rebuilds()})
    assert since == [dt.datetime(2025, 6, 1), dt.datetime(2025, 6, 16)]
    assert all("event_time >= @since_time" in bound_sql(sql) for sql, params in
               backend.statements if "since_time" in params)
    assert_same_tables(built_tables(client, "build_histories"),
                       fresh_build_of(client, settings, "build_fresh_1"))
    check_exports(after, settings, reads_histories=True)

    # An event arrives late for an older day: the build redoes the periods from that day on.
    late = pa.Table.from_pylist([{**early.slice(0, 1).to_pylist()[0],
                                  "event_time": dt.datetime(2025, 5, 20, 9)}], schema=events.schema)
    changed = pa.concat_tables([events, late])
    load_frame(client, "build_source.events", changed, arrow_schema_fields(changed))
    third = build(RecordingBackend(settings))
    assert (third.full, third.first_day, third.new_days, third.changed_days) == (
        False, dt.date(2025, 5, 20), 0, 1)
    assert_same_tables(built_tables(client, "build_histories"),
                       fresh_build_of(client, settings, "build_fresh_2"))
    check_exports(load_both(tmp_path, bigquery_emulator, "build_changed", changed), settings,
                  reads_histories=True)

    unchanged = build(RecordingBackend(settings))
    assert unchanged.first_day is None and "up to date" in unchanged.describe()


def bound_sql(sql: str) -> str:
    return BigQueryBackend.dialect.bind_parameters(sql)


def check_exports(pair: Pair, settings: BigQuerySettings, reads_histories: bool) -> None:
    """The exports from BigQuery (with the histories when they are current) equal DuckDB's."""
    pair.bigquery_backend = BigQueryBackend(settings)
    pair.bigquery = Config(backend="bigquery", bigquery=settings)
    histories = f"{settings.project}.build_histories.user_periods_week"
    for args in BUILD_EXPORTS:
        statements = pair.compare(args)
        if args[:3] == ["growth", "--grain", "week"]:
            assert any(histories in sql for sql in statements) == reads_histories


def test_build_needs_a_dataset_and_bigquery(tmp_path):
    from tests.cli import run_cli

    on_duckdb = run_cli("build", env_extra={"DUCKDB_PATH": str(tmp_path / "x.duckdb")})
    assert on_duckdb.returncode == 1 and "build is for BigQuery" in on_duckdb.stderr
    env = {"BACKEND": "bigquery", "BQ_PROJECT": "my-project", "BQ_DATASET": "d",
           "BQ_API_ENDPOINT": "http://127.0.0.1:9"}
    unset = run_cli("build", env_extra=env)
    assert unset.returncode == 1 and "set BQ_BUILD_DATASET" in unset.stderr
    assert "Traceback" not in unset.stderr


def test_build_on_ga4_reads_only_the_new_daily_tables(tmp_path, bigquery_emulator):
    events = recent_events(users=150, seed=31)
    cut = pa.scalar(dt.datetime(2025, 6, 17), pa.timestamp("us"))
    early = events.filter(pc.less(events["event_time"], cut))
    pair = ga4_pair(tmp_path, bigquery_emulator, "ga4_build", early)
    settings = replace(pair.bigquery.bigquery, build_dataset="ga4_histories")
    build(BigQueryBackend(settings))
    load_ga4(bigquery_emulator.client(), "ga4_build", ga4_rows(events))
    backend = RecordingBackend(settings)
    report = build(backend)
    assert (report.full, report.first_day, report.new_days) == (False, dt.date(2025, 6, 17), 2)
    # Each rebuild reads the tables from its first period's day on (a day earlier, for the
    # property's time zone): June for months, the week of Monday the 16th, the 17th for days.
    windows = sorted({params["events_first_day"] for params in backend.rebuilds()})
    assert windows == [dt.date(2025, 6, 1), dt.date(2025, 6, 16), dt.date(2025, 6, 17)]
    after = ga4_pair(tmp_path, bigquery_emulator, "ga4_build_all", events)
    after.bigquery_backend = BigQueryBackend(settings)
    after.bigquery = Config(backend="bigquery", bigquery=settings)
    for args in (["growth", "--grain", "week"], ["retention", "--grain", "month"],
                 ["growth", "--grain", "day", "--filter", "device_category=web"]):
        assert any("ga4_histories" in sql for sql in after.compare(args))
