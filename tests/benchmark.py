"""Benchmark the growth and retention queries on a large demo data set (a script, not a test).

Run from the project root:

    python tests/benchmark.py [--users 500000] [--seed 7] [--end-date YYYY-MM-DD]
                              [--workdir DIR] [--repeat 3] [--keep]

It streams the demo generator (about 30 events per user: ~15 million events for 500,000
users) into a Parquet file, loads that file with the app's own loader (what
`python -m app load FILE --db DB` does) into a fresh DuckDB file, and then times, for each
grain (day, week, month), best of --repeat runs, uncached (`growth_table` on a plain
`DuckDBBackend`):

* the unfiltered growth query,
* growth queries filtered by segment (platform=ios; country=US with event_type in
  session/purchase),
* retention triangles: exact and unbounded, filtered by platform, and purchase -> purchase,
* the revenue trend (no target set), and once: the 28-day revenue window and the funnel,
* the reference: a plain count of distinct (user, period) pairs, written as a user would,
  `select count(*) from (select distinct user_id, date_trunc('<grain>', event_time)
  from events [where <the same segment>])`, run through the same `DuckDBBackend.run`; a
  filtered view is compared with the count over the same filtered events,
* command-line start-up: `python -m app export growth` as a whole process against a bare
  `python -c "import duckdb, pandas; ..."` running one query, on a 2,000-user demo (counting
  events) and on this data (counting distinct user-weeks).

Targets (from the issues), as the ratio of a query's time to the reference's: growth
unfiltered within 1.2x, filtered views (growth, retention, revenue) within 1.5x of the
filtered count, retention within 2x; start-up within 1.3x (small demo) and 1.2x (this data).
Each line says PASS or MISS; a miss is reported, never turned into a non-zero exit status.

Only the events are loaded: the demo module exposes assignments only through
`generate_demo`, which holds every event in memory. Data goes under --workdir (default: a
new temporary directory under /tmp); the files are removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

# Run as a script, Python puts tests/ on the path, not the project root the imports need.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.demo import EVENT_SCHEMA, iter_demo_event_batches
from app.storage import Source, load
from queries.backends import DuckDBBackend
from queries.engagement import (
    EngagementQuery,
    StickinessQuery,
    engagement_table,
    stickiness_table,
)
from queries.filters import SegmentFilter
from queries.funnel import FunnelQuery, funnel_table
from queries.growth import GrowthQuery, growth_table
from queries.ltv import LtvQuery, ltv_table
from queries.periods import Grain
from queries.retention import RetentionMode, RetentionQuery, retention_table
from queries.revenue import RevenueQuery, revenue_trend, revenue_window

IOS = SegmentFilter.from_mapping({"platform": ["ios"]})
US_SESSIONS = SegmentFilter.from_mapping({"country": ["US"], "event_type": ["session", "purchase"]})
PURCHASE = ("purchase",)
# The segment each reference count filters by, as SQL over `events` (None: all events).
REFERENCES = {
    "all": None,
    "platform=ios": "platform = 'ios'",
    "US+session/purchase": "country = 'US' and event_type in ('session', 'purchase')",
}
# label: (the query for a grain, the reference it is compared with, target as a multiple of
# that distinct user-period count). A filtered view is held to the count over the same events.
CASES: dict[str, tuple[Callable[[Grain], object], str, float | None]] = {
    "growth unfiltered": (lambda grain: GrowthQuery(grain), "all", 1.2),
    "growth platform=ios": (lambda grain: GrowthQuery(grain, segment=IOS), "platform=ios", 1.5),
    "growth US+session/purchase": (
        lambda grain: GrowthQuery(grain, segment=US_SESSIONS), "US+session/purchase", 1.5
    ),
    "retention exact": (lambda grain: RetentionQuery(grain), "all", 2.0),
    "retention unbounded": (
        lambda grain: RetentionQuery(grain, mode=RetentionMode.UNBOUNDED), "all", 2.0
    ),
    "retention platform=ios": (
        lambda grain: RetentionQuery(grain, segment=IOS), "platform=ios", 1.5
    ),
    "retention purchase->purchase": (
        lambda grain: RetentionQuery(grain, start_events=PURCHASE, return_events=PURCHASE),
        "all", 2.0,
    ),
    "revenue trend": (lambda grain: RevenueQuery(grain), "all", None),
    "revenue trend platform=ios": (
        lambda grain: RevenueQuery(grain, segment=IOS), "platform=ios", 1.5
    ),
    # None: the query has no such grain. Engagement is daily (its WAU and MAU too).
    "stickiness": (lambda grain: None if grain is Grain.DAY else StickinessQuery(grain),
                   "all", 2.0),
    "engagement (DAU/WAU/MAU)": (lambda grain: EngagementQuery() if grain is Grain.DAY
                                 else None, "all", 2.0),
    "revenue cohorts (LTV)": (lambda grain: LtvQuery(grain), "all", 2.0),
}
# Not per grain: timed once, against the week count.
ONCE: dict[str, Callable[[DuckDBBackend, dt.date], object]] = {
    "revenue window, last 28 days": lambda backend, end: revenue_window(
        backend, end - dt.timedelta(days=27), end
    ),
    "funnel, 3 steps, 7-day window": lambda backend, end: funnel_table(backend, FunnelQuery()),
    "funnel, 3 steps, last 90 days": lambda backend, end: funnel_table(
        backend, FunnelQuery(start=end - dt.timedelta(days=89), end=end)
    ),
}
TABLES = {GrowthQuery: growth_table, RetentionQuery: retention_table, RevenueQuery: revenue_trend,
          StickinessQuery: stickiness_table, EngagementQuery: engagement_table,
          LtvQuery: ltv_table}
EVENTS_FILE = "events.parquet"
DB_FILE = "benchmark.duckdb"
SMALL_DB_FILE = "small-demo.duckdb"


@dataclass(frozen=True)
class Timing:
    grain: str
    label: str
    seconds: float
    reference_seconds: float
    target: float | None
    reference: str = "all"

    @property
    def ratio(self) -> float:
        return self.seconds / self.reference_seconds

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "(no target)"
        return "PASS" if self.ratio <= self.target else "MISS"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--end-date", type=dt.date.fromisoformat, help="last day of data (default: today, UTC)"
    )
    parser.add_argument("--workdir", type=Path, help="where the data goes (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query; the best counts")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    if args.users < 1 or args.repeat < 1:
        parser.error("--users and --repeat must be positive")
    return args


def say(message: str = "") -> None:
    print(message, flush=True)


def interleaved_best(repeat: int, runs: dict[str, Callable[[], object]]) -> dict[str, tuple]:
    """Best time and last result of each run, taking turns so that all see the same load.

    A shared 2-core machine's speed drifts by tens of percent from minute to minute; timing
    the reference and the growth queries in alternation keeps their ratio meaningful.
    """
    best = dict.fromkeys(runs, float("inf"))
    results: dict[str, object] = {}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            results[name] = run()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: (best[name], results[name]) for name in runs}


def generate(path: Path, users: int, seed: int, end_date: dt.date | None) -> int:
    """Stream the demo events into a Parquet file one batch of users at a time."""
    events = 0
    with pq.ParquetWriter(path, EVENT_SCHEMA) as writer:
        for batch in iter_demo_event_batches(users=users, seed=seed, end_date=end_date):
            writer.write_batch(batch)
            events += batch.num_rows
    return events


def reference_sql(grain: Grain, where: str | None = None) -> str:
    return (
        "select count(*) as user_periods from (select distinct user_id,"
        f" date_trunc('{grain.value}', event_time) from events"
        f"{f' where {where}' if where else ''})"
    )


def benchmark_grain(backend: DuckDBBackend, grain: Grain, repeat: int) -> tuple[list, int]:
    sqls = {name: reference_sql(grain, where) for name, where in REFERENCES.items()}
    runs: dict[str, Callable[[], object]] = {
        f"reference {name}": lambda sql=sql: backend.run(sql, {}) for name, sql in sqls.items()
    }
    for label, (make_query, _, _) in CASES.items():
        query = make_query(grain)
        if query is None:
            continue
        table_of = TABLES[type(query)]
        runs[label] = lambda query=query, table_of=table_of: table_of(backend, query)
    measured = interleaved_best(repeat, runs)

    counts = {}
    for name in REFERENCES:
        seconds, frame = measured[f"reference {name}"]
        counts[name] = (seconds, int(frame["user_periods"].iloc[0]))
        say(f"  reference distinct user-period count, {name}: {seconds:7.3f} s"
            f" ({counts[name][1]:,} rows)")
    user_periods = counts["all"][1]
    timings = []
    for label, (_, reference_name, target) in CASES.items():
        if label not in measured:
            continue
        seconds, table = measured[label]
        reference = counts[reference_name][0]
        timing = Timing(grain.value, label, seconds, reference, target, reference_name)
        timings.append(timing)
        say(
            f"  {label:<29} {seconds:7.3f} s  {timing.ratio:5.2f}x the count"
            f"  {target_text(target)}  {timing.verdict}"
        )
        if label == "growth unfiltered" and int(table["active_users"].sum()) != user_periods:
            say(
                f"  WARNING: active users summed over periods ({table['active_users'].sum():,})"
                " differ from the distinct user-period count"
            )
    return timings, user_periods


def target_text(target: float | None) -> str:
    return "" if target is None else f"{target}x"


def benchmark_once(backend: DuckDBBackend, repeat: int) -> None:
    """Queries that have no grain: best of `repeat`, uncached."""
    end = backend.run("select cast(max(event_time) as date) as day from events", {})["day"][0]
    end = end.date() if hasattr(end, "date") else end
    runs = {label: (lambda run=run: run(backend, end)) for label, run in ONCE.items()}
    for label, (seconds, _) in interleaved_best(repeat, runs).items():
        say(f"  {label:<32} {seconds:7.3f} s")


def process_seconds(command: list[str], repeat: int) -> float:
    """Median wall time of a whole process (start-up included), output discarded."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bare_process(db_path: Path, sql: str) -> list[str]:
    """What a user would run by hand: Python, DuckDB and pandas, one query."""
    return [sys.executable, "-c", "import duckdb, pandas; c = duckdb.connect("
            f"{str(db_path)!r}, read_only=True); print(c.execute({sql!r}).df())"]


def export_process(db_path: Path) -> list[str]:
    return [sys.executable, "-m", "app", "export", "growth", "--db", str(db_path)]


def benchmark_startup(db_path: Path, small_db: Path, repeat: int) -> None:
    """Whole processes, medians of `repeat` runs: the CLI's export against a bare DuckDB
    process (targets 1.3x on a small demo, 1.2x here)."""
    cases = [
        ("small demo: export growth vs count events", small_db, "select count(*) from events",
         1.3),
        ("this data: export growth vs distinct user-weeks", db_path, reference_sql(Grain.WEEK),
         1.2),
    ]
    for label, db, sql, target in cases:
        bare = process_seconds(bare_process(db, sql), repeat)
        export = process_seconds(export_process(db), repeat)
        ratio = export / bare
        say(f"  {label:<50} {export:6.3f} s vs {bare:6.3f} s  {ratio:4.2f}x  {target}x"
            f"  {'PASS' if ratio <= target else 'MISS'}")


def make_small_demo(path: Path) -> None:
    subprocess.run([sys.executable, "-m", "app", "demo", "--users", "2000", "--end-date",
                    "2026-11-18", "--db", str(path)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def print_summary(timings: list[Timing], user_periods: dict[str, int]) -> None:
    say()
    say("summary (best of runs, seconds; ratio = query / distinct user-period count)")
    header = (f"{'grain':<6} {'query':<29} {'time':>8} {'count':>8} {'of':<20} {'ratio':>6}"
              f" {'target':>7}")
    say(header)
    say("-" * (len(header) + 6))
    for t in timings:
        say(
            f"{t.grain:<6} {t.label:<29} {t.seconds:8.3f} {t.reference_seconds:8.3f}"
            f" {t.reference:<20} {t.ratio:5.2f}x {target_text(t.target):>7}  {t.verdict}"
        )
    say()
    say("distinct user-period counts: " + ", ".join(f"{g} {n:,}" for g, n in user_periods.items()))
    targeted = [t for t in timings if t.target is not None]
    misses = [t for t in targeted if t.verdict == "MISS"]
    say(f"{len(targeted) - len(misses)} of {len(targeted)} within target")


def run(args: argparse.Namespace, workdir: Path) -> None:
    events_path, db_path = workdir / EVENTS_FILE, workdir / DB_FILE
    say(f"workdir: {workdir}")

    say(f"generating demo events for {args.users:,} users (seed {args.seed}) ...")
    started = time.perf_counter()
    events = generate(events_path, args.users, args.seed, args.end_date)
    size_mb = events_path.stat().st_size / 1e6
    say(
        f"generated {events:,} events in {time.perf_counter() - started:.1f} s"
        f" ({size_mb:,.0f} MB Parquet)"
    )

    for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    say(f"loading {events_path.name} into {db_path.name} (as `python -m app load`) ...")
    started = time.perf_counter()
    report = load(db_path, Source(events_path.name, path=events_path))
    say(
        f"loaded {report.events:,} events in {time.perf_counter() - started:.1f} s"
        f" ({db_path.stat().st_size / 1e6:,.0f} MB DuckDB file)"
    )

    backend = DuckDBBackend(db_path)
    timings, user_periods = [], {}
    for grain in Grain:
        say()
        say(f"grain {grain.value} (best of {args.repeat}, uncached):")
        grain_timings, user_periods[grain.value] = benchmark_grain(backend, grain, args.repeat)
        timings.extend(grain_timings)
    say()
    say(f"revenue window and funnel (best of {args.repeat}, uncached):")
    benchmark_once(backend, args.repeat)
    say()
    say("command-line start-up (whole processes, median of 7 runs):")
    small_db = workdir / SMALL_DB_FILE
    make_small_demo(small_db)
    benchmark_startup(db_path, small_db, 7)
    print_summary(timings, user_periods)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    own_dir = args.workdir is None
    if own_dir:
        workdir = Path(tempfile.mkdtemp(prefix="growth-benchmark-", dir="/tmp"))
    else:
        workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        run(args, workdir)
    finally:
        if args.keep:
            say(f"kept the data in {workdir}")
        elif own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for name in (EVENTS_FILE, DB_FILE, DB_FILE + ".wal", SMALL_DB_FILE):
                (workdir / name).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
