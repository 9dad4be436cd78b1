"""Loading other tools' exports: column mappings, the PostHog, Segment, Amplitude and Mixpanel
layouts (CSV and NDJSON), JSON properties as segments, and every common timestamp form.

The same events are written in each layout here, by hand-written writers that know nothing of
the loader; each file must load to the same exports as the canonical CSV of those events.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import zoneinfo

import pandas as pd
import pytest
from cachelib import NullCache

from app.cli import EXPORTS, build_parser
from app.config import Config
from app.csv_export import write_csv
from app.demo import generate_demo
from app.file_layouts import DEFAULT_SEGMENTS, LoadOptions, parse_mapping
from app.storage import Source, load
from app.validation import LoadError
from queries.backends import DuckDBBackend
from queries.cache import CachedBackend
from tests.cli import run_cli
from tests.test_cli_load import query, sha256

EXPORT_ARGS = {
    "growth_week": ["growth", "--grain", "week"],
    "growth_month_ios": ["growth", "--grain", "month", "--filter", "platform=ios"],
    "retention_week": ["retention", "--grain", "week"],
    "retention_country": ["retention", "--grain", "month", "--filter", "country=US"],
    "revenue_week": ["revenue", "--grain", "week"],
    "revenue_month_web": ["revenue", "--grain", "month", "--filter", "utm_source=google"],
}
SEGMENTS = ("platform", "country", "utm_source")


def export_csv(db, args: list[str]) -> str:
    parsed = build_parser().parse_args(["export", *args])
    backend = CachedBackend(DuckDBBackend(db), NullCache())
    frame = EXPORTS[parsed.table](backend, parsed, Config(duckdb_path=db))
    text = io.StringIO()
    write_csv(frame, text)
    return text.getvalue()


def all_exports(db) -> dict[str, str]:
    return {name: export_csv(db, args) for name, args in EXPORT_ARGS.items()}


@pytest.fixture(scope="module")
def events() -> list[dict]:
    """Demo events, to the whole second (Mixpanel keeps seconds), as plain dicts."""
    table = generate_demo(users=150, seed=11, end_date=dt.date(2025, 3, 31)).events
    rows = table.to_pylist()
    for row in rows:
        row["event_time"] = row["event_time"].replace(microsecond=0)
    return rows


def write_canonical(rows, path):
    frame = pd.DataFrame(rows)
    frame["event_time"] = frame["event_time"].map(lambda t: t.isoformat(sep=" "))
    frame.to_csv(path, index=False)


def properties(row: dict, revenue_key="revenue") -> dict:
    found = {name: row[name] for name in SEGMENTS if row[name] is not None}
    found["$insert_id"] = f"{random.random():.12f}"  # unique per event: never a segment
    if row["revenue"] is not None:
        found[revenue_key] = row["revenue"]
    return found


def write_posthog(rows, path):
    """NDJSON; timestamps in +02:00, every fifth one as epoch milliseconds."""
    with path.open("w") as handle:
        for number, row in enumerate(rows):
            when = row["event_time"].replace(tzinfo=dt.UTC)
            stamp = (int(when.timestamp() * 1000) if number % 5 == 0 else
                     when.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat())
            handle.write(json.dumps({
                "uuid": f"{number:08x}", "event": row["event_type"],
                "distinct_id": row["user_id"], "timestamp": stamp,
                "properties": properties(row),
            }) + "\n")


def write_segment(rows, path):
    """CSV with the properties as JSON text; anonymous users have only an anonymousId."""
    records = []
    for number, row in enumerate(rows):
        anonymous = number % 3 == 0
        records.append({
            "messageId": f"m{number}", "event": row["event_type"],
            "userId": "" if anonymous else row["user_id"],
            "anonymousId": row["user_id"] if anonymous else f"anon-{number}",
            "timestamp": row["event_time"].isoformat() + "Z",
            "properties": json.dumps(properties(row)),
        })
    pd.DataFrame(records).to_csv(path, index=False)


def write_amplitude(rows, path, zone: zoneinfo.ZoneInfo | None = None):
    """CSV; event_time as Amplitude writes it (microseconds, no offset), local to `zone` if
    given; the revenue in event_properties.price."""
    records = []
    for number, row in enumerate(rows):
        when = row["event_time"]
        if zone is not None:
            when = when.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
        records.append({
            "event_type": row["event_type"], "user_id": row["user_id"],
            "event_time": when.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "amplitude_id": 10_000 + number,
            "event_properties": json.dumps(properties(row, revenue_key="price")),
        })
    pd.DataFrame(records).to_csv(path, index=False)


def write_mixpanel(rows, path):
    """NDJSON; distinct_id and time (epoch seconds) inside properties."""
    with path.open("w") as handle:
        for row in rows:
            when = int(row["event_time"].replace(tzinfo=dt.UTC).timestamp())
            handle.write(json.dumps({
                "event": row["event_type"],
                "properties": {"distinct_id": row["user_id"], "time": when,
                               "mp_lib": "web", **properties(row)},
            }) + "\n")


LAYOUT_FILES = {
    "posthog": ("events.ndjson", write_posthog, "revenue=properties.revenue"),
    "segment": ("events.csv", write_segment, "revenue=properties.revenue"),
    "amplitude": ("events.csv", write_amplitude, "revenue=event_properties.price"),
    "mixpanel": ("events.ndjson", write_mixpanel, "revenue=properties.revenue"),
}


@pytest.fixture(scope="module")
def canonical_exports(events, tmp_path_factory):
    folder = tmp_path_factory.mktemp("canonical")
    write_canonical(events, folder / "events.csv")
    load(folder / "c.duckdb", Source("events.csv", path=folder / "events.csv"))
    return all_exports(folder / "c.duckdb")


@pytest.mark.parametrize("layout", LAYOUT_FILES)
def test_each_tools_export_loads_to_the_same_exports_as_the_canonical_file(
    layout, events, canonical_exports, tmp_path
):
    name, write, mapping = LAYOUT_FILES[layout]
    path = tmp_path / f"{layout}-{name}"
    random.seed(1)
    write(events, path)
    db = tmp_path / "mapped.duckdb"
    load(db, Source(path.name, path=path),
         options=LoadOptions(layout, parse_mapping(mapping)))
    stored = [row[0] for row in query(db, "select column_name from duckdb_columns()"
                                          " where table_name = 'events'")]
    # The low-cardinality properties, not the unique ids nor the library's constant.
    assert set(stored) - {"event_time", "user_id", "event_type", "revenue", "load_id"} \
        == set(SEGMENTS) | ({"mp_lib"} if layout == "mixpanel" else set())
    actual = all_exports(db)
    for export in EXPORT_ARGS:
        assert actual[export] == canonical_exports[export], export


def test_the_command_line_loads_a_layout_and_names_the_segments_it_kept(events, tmp_path):
    path = tmp_path / "posthog.ndjson"
    write_posthog(events[:300], path)
    result = run_cli("load", str(path), "--format", "posthog", "--map",
                     "revenue=properties.revenue", "--db", str(tmp_path / "cli.duckdb"))
    assert result.returncode == 0, result.stderr
    kept = next(line for line in result.stderr.splitlines() if line.startswith("segment"))
    assert sorted(kept.removeprefix("segment columns: ").split(", ")) == [
        f"{name} (from properties.{name})" for name in sorted(SEGMENTS)]
    assert query(tmp_path / "cli.duckdb", "select count(*) from events") == [(300,)]


def test_naive_timestamps_are_read_in_the_given_time_zone(events, canonical_exports, tmp_path):
    zone = zoneinfo.ZoneInfo("America/New_York")  # both DST changes fall inside the data
    path = tmp_path / "amplitude-local.csv"
    write_amplitude(events, path, zone)
    db = tmp_path / "local.duckdb"
    load(db, Source(path.name, path=path), options=LoadOptions(
        "amplitude", parse_mapping("revenue=event_properties.price"), timezone=str(zone)))
    assert all_exports(db) == canonical_exports
    stored = sorted(t for (t,) in query(db, "select event_time from events"))
    assert stored == sorted(row["event_time"] for row in events)


@pytest.mark.parametrize(("zone", "local", "utc"), [
    # zoneinfo's reading (fold=0) of each local time, worked out by hand here.
    ("Europe/Berlin", "2025-01-15 12:00:00", "2025-01-15 11:00:00"),
    ("Europe/Berlin", "2025-07-15 12:00:00", "2025-07-15 10:00:00"),
    ("Europe/Berlin", "2025-10-26 02:30:00", "2025-10-26 00:30:00"),  # passed twice: summer
    ("Asia/Kolkata", "2025-03-01 05:30:00", "2025-03-01 00:00:00"),
    ("Australia/Lord_Howe", "2025-01-10 10:30:00", "2025-01-09 23:30:00"),  # +11:00 in summer
    ("Australia/Lord_Howe", "2025-07-10 10:30:00", "2025-07-10 00:00:00"),  # +10:30 in winter
    ("UTC", "2025-07-15 12:00:00", "2025-07-15 12:00:00"),
])
def test_time_zones_follow_zoneinfo(zone, local, utc, tmp_path):
    expected = dt.datetime.fromisoformat(local).replace(tzinfo=zoneinfo.ZoneInfo(zone))
    assert expected.astimezone(dt.UTC).replace(tzinfo=None) == dt.datetime.fromisoformat(utc)
    path = tmp_path / "events.csv"
    # A second event a year earlier, so the zone's table spans more than one year.
    path.write_text(f"t,u,e\n{local},u1,login\n2024-02-01 00:00:00,u2,login\n")
    db = tmp_path / "zone.duckdb"
    load(db, Source(path.name, path=path),
         options=LoadOptions(mapping=parse_mapping("event_time=t,user_id=u,event_type=e"),
                             timezone=zone))
    assert query(db, "select event_time from events where user_id = 'u1'") == [
        (dt.datetime.fromisoformat(utc),)]


def test_epoch_numbers_and_offsets_are_recognised(tmp_path):
    moment = dt.datetime(2025, 2, 3, 4, 5, 6, 789000)
    seconds = (moment - dt.datetime(1970, 1, 1)).total_seconds()
    stamps = {
        "seconds": f"{int(seconds)}", "fractional seconds": f"{seconds:.3f}",
        "milliseconds": f"{int(seconds * 1000)}", "microseconds": f"{int(seconds * 1e6)}",
        "offset": "2025-02-03T06:05:06.789+02:00",
        "negative offset": "2025-02-02T23:05:06.789-05:00",
        "Z": "2025-02-03T04:05:06.789Z", "naive (UTC)": "2025-02-03 04:05:06.789",
    }
    lines = [json.dumps({"event": "e", "distinct_id": name, "timestamp": stamp})
             for name, stamp in stamps.items()]
    lines.append(json.dumps({"event": "e", "distinct_id": "number", "timestamp": int(seconds)}))
    path = tmp_path / "stamps.ndjson"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "stamps.duckdb"
    load(db, Source(path.name, path=path), options=LoadOptions("posthog"))
    stored = dict(query(db, "select user_id, event_time from events"))
    whole = moment.replace(microsecond=0)
    assert stored == {
        "seconds": whole, "fractional seconds": moment, "milliseconds": moment,
        "microseconds": moment, "offset": moment, "negative offset": moment, "Z": moment,
        "naive (UTC)": moment, "number": whole,
    }


def test_a_heymax_style_file_maps_its_miles_to_revenue(tmp_path):
    rng = random.Random(4)
    rows, day = [], dt.datetime(2025, 1, 1)
    for _ in range(400):
        when = day + dt.timedelta(hours=rng.randrange(24 * 120))
        kind = rng.choice(["miles_earned", "app_open", "miles_earned", "card_linked"])
        miles = rng.randrange(10, 5000) if kind == "miles_earned" else None
        rows.append({"event_time": when.isoformat(sep=" "), "user_id": f"u{rng.randrange(60)}",
                     "event_type": kind, "transaction_category": rng.choice(["dining", "travel"]),
                     "miles_amount": miles, "platform": rng.choice(["ios", "android"]),
                     "utm_source": rng.choice(["organic", "referral"]), "country": "SG"})
    frame = pd.DataFrame(rows)
    path = tmp_path / "heymax_events.csv"
    frame.to_csv(path, index=False)
    db = tmp_path / "heymax.duckdb"
    result = run_cli("load", str(path), "--map", "revenue=miles_amount", "--db", str(db))
    assert result.returncode == 0, result.stderr
    revenue = pd.read_csv(io.StringIO(export_csv(db, ["revenue", "--grain", "month"])))
    assert revenue["revenue"].sum() == frame["miles_amount"].sum()
    by_month = frame.dropna(subset=["miles_amount"]).groupby(
        pd.to_datetime(frame["event_time"]).dt.strftime("%Y-%m-01"))["miles_amount"]
    assert dict(zip(revenue["period_start"], revenue["revenue"], strict=True)) == \
        by_month.sum().to_dict()
    assert list(revenue["orders"]) == list(by_month.count())
    # The miles are revenue now, not a segment; the other columns stay segments.
    stored = {c for (c,) in query(db, "select column_name from duckdb_columns()"
                                      " where table_name = 'events'")}
    assert "miles_amount" not in stored and {"transaction_category", "platform"} <= stored


def test_problems_are_reported_in_the_users_own_column_names(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("ts,who,what,amount\n2025-01-06 10:00:00,u1,earn,10\n"
                    "2025-01-07 10:00:00,,earn,5\nnot a time,u2,earn,x\n")
    db = tmp_path / "untouched.duckdb"
    good = tmp_path / "good.csv"
    good.write_text("event_time,user_id,event_type\n2025-01-01 00:00:00,u0,login\n")
    load(db, Source(good.name, path=good))
    before = sha256(db)
    result = run_cli("load", str(path), "--map", "event_time=ts,user_id=who,event_type=what,"
                     "revenue=amount", "--db", str(db))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "line 3, column 'who': is empty" in result.stderr
    assert "line 4, column 'ts': is not a timestamp: 'not a time'" in result.stderr
    assert "line 4, column 'amount': is not a number: 'x'" in result.stderr
    missing = run_cli("load", str(path), "--map", "user_id=customer", "--db", str(db))
    assert "column 'customer' (for user_id) is not in the file" in missing.stderr
    assert "column 'event_time' is not in the file" in missing.stderr
    assert sha256(db) == before


@pytest.mark.parametrize(("text", "line", "column"), [
    ('{"event": "a", "distinct_id": "u1", "timestamp": 1}\n{"event": "b", "distinct_id": }\n',
     2, 31),
    ('{"event": "a", "distinct_id": "u1", "timestamp": 1}\n\n{"event": "b" "x": 1}\n', 3, 15),
])
def test_malformed_json_is_refused_with_its_line_and_column(text, line, column, tmp_path):
    path = tmp_path / "broken.ndjson"
    path.write_text(text)
    with pytest.raises(LoadError) as refused:
        load(tmp_path / "never.duckdb", Source(path.name, path=path),
             options=LoadOptions("posthog"))
    assert f"line {line}: malformed JSON" in str(refused.value)
    assert f"at column {column}" in str(refused.value)
    assert not (tmp_path / "never.duckdb").exists()


def test_a_json_array_file_and_a_bad_value_in_it(tmp_path):
    records = [{"event": "a", "distinct_id": "u1", "timestamp": "2025-01-01T00:00:00Z"},
               {"event": "b", "distinct_id": "u2", "timestamp": "yesterday"}]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(records, indent=2))
    with pytest.raises(LoadError, match="row 2, column 'timestamp': is not a timestamp"):
        load(tmp_path / "a.duckdb", Source(path.name, path=path), options=LoadOptions("posthog"))
    records[1]["timestamp"] = "2025-01-02T00:00:00Z"
    path.write_text(json.dumps(records))
    load(tmp_path / "a.duckdb", Source(path.name, path=path), options=LoadOptions("posthog"))
    assert query(tmp_path / "a.duckdb", "select count(*) from events") == [(2,)]


def test_segments_default_to_twenty_low_cardinality_properties_or_follow_the_list(tmp_path):
    rng = random.Random(2)
    path = tmp_path / "wide.ndjson"
    with path.open("w") as handle:
        for number in range(200):
            props = {f"prop_{k:02d}": f"v{rng.randrange(k % 5 + 2)}" for k in range(25)}
            props["many"] = f"value-{number}"  # 200 values: not a segment
            handle.write(json.dumps({"event": "e", "distinct_id": f"u{number % 20}",
                                     "timestamp": 1735689600 + number,
                                     "properties": props}) + "\n")
    load(tmp_path / "wide.duckdb", Source(path.name, path=path), options=LoadOptions("posthog"))
    stored = {c for (c,) in query(tmp_path / "wide.duckdb", "select column_name from"
                                  " duckdb_columns() where table_name = 'events'")}
    kept = {c for c in stored if c.startswith("prop_")}
    assert len(kept) == DEFAULT_SEGMENTS and "many" not in stored
    load(tmp_path / "chosen.duckdb", Source(path.name, path=path),
         options=LoadOptions("posthog", segments=("many", "properties.prop_03")))
    stored = {c for (c,) in query(tmp_path / "chosen.duckdb", "select column_name from"
                                  " duckdb_columns() where table_name = 'events'")}
    assert stored == {"event_time", "user_id", "event_type", "revenue", "load_id", "many",
                      "prop_03"}
    with pytest.raises(LoadError, match="--segments names 'nothing'"):
        load(tmp_path / "no.duckdb", Source(path.name, path=path),
             options=LoadOptions("posthog", segments=("nothing",)))


@pytest.mark.parametrize(("arguments", "message"), [
    (["--map", "event_time"], "--map: 'event_time' is not of the form column=source"),
    (["--map", "load_id=x"], "--map: 'load_id' is not a column name the app can store"),
    (["--map", "event_time=a..b"], "is not a column or a path"),
    (["--format", "heap"], "invalid choice: 'heap'"),
    (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
])
def test_bad_load_options_get_a_message(arguments, message, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("event_time,user_id,event_type\n2025-01-01 00:00:00,u0,login\n")
    result = run_cli("load", str(path), *arguments, "--db", str(tmp_path / "x.duckdb"))
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.duckdb").exists()
