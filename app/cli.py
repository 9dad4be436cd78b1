"""`python -m app [serve|load|demo|export ...]`: the dashboard's tables, for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from cachelib import NullCache

from app.backend import open_backend
from app.config import Config
from app.csv_export import write_csv
from app.file_layouts import DEFAULT_SEGMENTS, LAYOUTS, LoadOptions, parse_mapping, parse_segments
from app.warm import rewarmed
from queries.backends import Backend
from queries.breakdown import growth_breakdown, retention_breakdown
from queries.cache import CachedBackend
from queries.engagement import STICKINESS_GRAINS, EngagementQuery, StickinessQuery
from queries.errors import ParameterError, UserError
from queries.experiment_metrics import DEFAULT_PRE_DAYS, MetricQuery, MetricView, metric_result
from queries.experiments import ExperimentQuery, ExperimentView, experiment_result, parse_declared
from queries.filters import SegmentFilter
from queries.funnel import DEFAULT_STEPS, FunnelQuery, funnel_table
from queries.growth import GrowthQuery, growth_table
from queries.ltv import LtvQuery
from queries.metric_stats import DEFAULT_TUNING
from queries.periods import Grain
from queries.registry import QUERIES, QuerySpec, run_query
from queries.retention import RetentionMode, RetentionQuery, retention_table
from queries.revenue import RevenueQuery, WindowQuery, revenue_table, revenue_window, window_table


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def step_list(text: str) -> tuple[str, ...]:
    steps = tuple(step.strip() for step in text.split(","))
    if len(steps) < 2 or not all(steps):
        raise argparse.ArgumentTypeError("give at least two comma-separated event types")
    return steps


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="DuckDB file (default: $DUCKDB_PATH or data/)")


def add_breakdown_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--breakdown", metavar="COLUMN",
        help="one block per value of this segment column (the top values, the rest as other),"
             " after a leading segment column")


def add_view_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", type=iso_date, help="first day of the range (YYYY-MM-DD)")
    parser.add_argument("--end", type=iso_date, help="last day of the range (YYYY-MM-DD)")
    parser.add_argument(
        "--filter", action="append", default=[], metavar="COLUMN=VALUE",
        help="count only events with this value; repeat a column to allow several values",
    )
    parser.add_argument("-o", "--output", type=Path, help="write CSV here instead of stdout")
    add_db_option(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="serve the dashboard (the default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--debug", action="store_true")
    add_db_option(serve)

    load = commands.add_parser(
        "load", help="load events (CSV, Parquet, JSON or NDJSON) into the DuckDB file")
    load.add_argument("events", type=Path, metavar="EVENTS_FILE")
    load.add_argument("--format", choices=sorted(LAYOUTS), dest="layout",
                      help="another tool's export layout (its columns and JSON properties)")
    load.add_argument("--map", metavar="COLUMN=SOURCE,...",
                      help="the file's names for the app's columns, e.g. event_time=timestamp,"
                           "user_id=distinct_id,event_type=event,revenue=amount; a source may"
                           " be a JSON path (properties.time) or alternatives (userId|anonymousId)")
    load.add_argument("--segments", metavar="NAME,...",
                      help="the columns or properties to keep as segments (default with"
                           f" --format: those with few values, at most {DEFAULT_SEGMENTS})")
    load.add_argument("--timezone", metavar="ZONE",
                      help="the zone of timestamps without an offset (default UTC)")
    load.add_argument("--assignments", type=Path, metavar="FILE")
    load.add_argument("--replace", action="store_true", help="reload a file loaded before")
    add_db_option(load)

    demo = commands.add_parser("demo", help="write the generated demo data set")
    demo.add_argument("--users", type=positive_int)
    demo.add_argument("--seed", type=int)
    demo.add_argument("--end-date", type=iso_date, help="last day of data (default: today)")
    demo.add_argument("--replace", action="store_true", help="replace data already there")
    add_db_option(demo)

    refresh = commands.add_parser(
        "refresh", help="load the files of a folder that are not loaded yet (for a scheduler)"
    )
    refresh.add_argument("folder", type=Path, metavar="SOURCE_DIR")
    add_db_option(refresh)

    commands.add_parser(
        "build", help="BigQuery: write the user histories views read (into BQ_BUILD_DATASET),"
                      " adding only the days that changed")

    warm = commands.add_parser("warm", help="put the page's default views in the shared cache")
    add_db_option(warm)

    commands.add_parser(
        "hash-password", help="print a password hash for AUTH_USERS (asks, or reads stdin)"
    )

    export = commands.add_parser("export", help="write a table as CSV")
    tables = export.add_subparsers(dest="table", required=True)
    growth = tables.add_parser("growth", help="growth accounting per period")
    growth.add_argument("--grain", choices=[g.value for g in Grain], default="week")
    add_breakdown_option(growth)
    add_view_options(growth)

    retention = tables.add_parser("retention", help="retention per cohort and period index")
    retention.add_argument("--grain", choices=[g.value for g in Grain], default="week")
    retention.add_argument("--mode", choices=[m.value for m in RetentionMode], default="exact")
    retention.add_argument("--start-event", help="event type that puts a user in a cohort")
    retention.add_argument("--return-event", help="event type that counts as coming back")
    add_breakdown_option(retention)
    add_view_options(retention)

    revenue = tables.add_parser("revenue", help="revenue, orders and AOV per period")
    revenue.add_argument("--grain", choices=[g.value for g in Grain], default="week")
    add_view_options(revenue)

    stickiness = tables.add_parser(
        "stickiness", help="per period, how many users were active on 1, 2, ... of its days")
    stickiness.add_argument("--grain", choices=[g.value for g in STICKINESS_GRAINS],
                            default="week")
    add_view_options(stickiness)

    engagement = tables.add_parser("engagement", help="DAU, WAU, MAU and their ratios per day")
    add_view_options(engagement)

    ltv = tables.add_parser("ltv", help="revenue per cohort and period index (the LTV curve)")
    ltv.add_argument("--grain", choices=[g.value for g in Grain], default="month")
    add_view_options(ltv)

    window = tables.add_parser(
        "revenue-window", help="revenue in a date range against the previous range of equal length"
    )
    add_view_options(window)

    funnel = tables.add_parser("funnel", help="an ordered conversion funnel")
    funnel.add_argument(
        "--steps", type=step_list, default=",".join(DEFAULT_STEPS),
        help=f"comma-separated event types (default {','.join(DEFAULT_STEPS)})",
    )
    funnel.add_argument("--window-days", type=float, default=7.0,
                        help="conversion window from step 1, in days (default 7)")
    add_view_options(funnel)

    ab = tables.add_parser("ab", help="an experiment's variants with lift, p-value and SRM check")
    ab.add_argument("--experiment", required=True)
    ab.add_argument("--conversion-event", default="purchase")
    ab.add_argument("--control", help="the control variant (default: control, else A, else first)")
    ab.add_argument("--window-days", type=float,
                    help="count conversions (or the metric) within N days of assignment")
    ab.add_argument("--metric", default="conversion",
                    help="conversion (default), revenue_per_user, orders_per_user, aov, or"
                         " sum:COLUMN for the per-user sum of a numeric event column")
    ab.add_argument("--cuped", action="store_true",
                    help="adjust by each user's same metric before assignment (CUPED)")
    ab.add_argument("--pre-days", type=float, default=DEFAULT_PRE_DAYS,
                    help=f"CUPED's pre-period in days (default {DEFAULT_PRE_DAYS})")
    ab.add_argument("--sequential", action="store_true",
                    help="always-valid intervals and p-values, safe to look at every day")
    ab.add_argument("--tuning", type=float, default=DEFAULT_TUNING,
                    help=f"the sequential test's tuning parameter (default {DEFAULT_TUNING})")
    ab.add_argument("--breakdown", help="one block of variants per value of this column")
    add_view_options(ab)

    ask = commands.add_parser("ask", help="answer a question about the data in plain English")
    ask.add_argument("question")
    ask.add_argument("--grain", choices=[g.value for g in Grain], default="week",
                     help="the grain meant when the question names none (default week)")
    add_db_option(ask)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {None: run_serve, "serve": run_serve, "load": run_load, "demo": run_demo}
    handlers["export"] = run_export
    handlers |= {"refresh": run_refresh, "warm": run_warm, "hash-password": run_hash_password}
    handlers["build"] = run_build
    handlers["ask"] = run_ask
    try:
        config = Config.from_env().with_db(getattr(args, "db", None))
    except ValueError as error:  # a malformed setting in the environment
        print(f"error: {error}", file=sys.stderr)
        return 1
    from app.logs import configure_terminal

    configure_terminal("DEBUG" if config.log_level == "DEBUG" else "WARNING")
    try:
        return handlers[args.command](args, config) or 0
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped early (`| head`): stay quiet, as other Unix tools do, and keep
        # Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:  # e.g. -o into a folder that does not exist
        print(f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 1


def run_load(args, config: Config) -> int:
    from app.storage import Source, load

    options = LoadOptions(args.layout, parse_mapping(args.map), parse_segments(args.segments),
                          args.timezone)
    events = Source(args.events.name, path=args.events)
    assignments = Source(args.assignments.name, path=args.assignments) if args.assignments else None
    with rewarmed(config):
        load(config.duckdb_path, events, assignments, replace=args.replace,
             timestamps=config.timestamps, options=options)
    return 0


def run_refresh(args, config: Config) -> int:
    from app.refresh import refresh

    with rewarmed(config):
        refresh(config.duckdb_path, args.folder, config.timestamps)
    return 0


def run_build(args, config: Config) -> int:
    if config.backend != "bigquery":
        raise UserError("build is for BigQuery: on DuckDB, every load builds the histories")
    from queries.bigquery import BigQueryBackend
    from queries.bigquery_build import build

    report = build(BigQueryBackend(config.bigquery))
    print(report.describe(), file=sys.stderr)
    return 0


def run_warm(args, config: Config) -> int:
    from app.logs import configure
    from app.warm import warm_shared_cache

    configure(config.log_level)
    report = warm_shared_cache(config)
    if report is None:
        print("nothing to warm: the cache is off, or not shared between processes",
              file=sys.stderr)
    return 0


def run_hash_password(args, config: Config) -> int:
    """The password comes from a prompt (or stdin), never the command line: argv is visible
    to every user of the machine and lands in shell history."""
    import getpass

    from werkzeug.security import generate_password_hash

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("error: empty password", file=sys.stderr)
        return 1
    print(generate_password_hash(password))
    return 0


def run_demo(args, config: Config) -> int:
    from app.demo_loader import write_demo

    with rewarmed(config):
        write_demo(
            config.duckdb_path, users=args.users or config.demo_users, seed=args.seed,
            end_date=args.end_date, replace=args.replace,
        )
    return 0


@dataclass(frozen=True)
class Export:
    """`export TABLE`: the registered query it reads, and its view from the flags."""

    query: QuerySpec
    view: Callable[[argparse.Namespace, Config], object]
    # The CSV's rows from the view, where the dashboard shapes the query's rows further;
    # None: the query's rows as they are.
    table: Callable[[Backend, object], pd.DataFrame] | None = None

    def __call__(self, backend: Backend, args: argparse.Namespace, config: Config) -> pd.DataFrame:
        view = self.view(args, config)
        if self.table is None:
            return run_query(backend, self.query, view)
        return self.table(backend, view)


def growth_view(args, config: Config) -> GrowthQuery:
    return GrowthQuery(
        grain=Grain.parse(args.grain), start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter),
    )


@dataclass(frozen=True)
class BrokenDown:
    """A view and the column its export is broken down by."""

    query: object
    column: str


def broken_down(view):
    """`--breakdown COLUMN` wraps the view; without it the view is as it was."""
    def with_breakdown(args, config: Config):
        query = view(args, config)
        return BrokenDown(query, args.breakdown) if args.breakdown else query
    return with_breakdown


def breakdown_export(plain, by_segment):
    def export(backend: Backend, view) -> pd.DataFrame:
        if isinstance(view, BrokenDown):
            return by_segment(backend, view.query, view.column)
        return plain(backend, view)
    return export


def retention_view(args, config: Config) -> RetentionQuery:
    return RetentionQuery(
        grain=Grain.parse(args.grain), start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter), mode=RetentionMode.parse(args.mode),
        start_events=(args.start_event,) if args.start_event else None,
        return_events=(args.return_event,) if args.return_event else None,
    )


def revenue_view(args, config: Config) -> RevenueQuery:
    return RevenueQuery(
        grain=Grain.parse(args.grain), start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter),
    )


def stickiness_view(args, config: Config) -> StickinessQuery:
    return StickinessQuery(Grain.parse(args.grain), args.start, args.end,
                           SegmentFilter.parse(args.filter))


def engagement_view(args, config: Config) -> EngagementQuery:
    return EngagementQuery(args.start, args.end, SegmentFilter.parse(args.filter))


def ltv_view(args, config: Config) -> LtvQuery:
    return LtvQuery(Grain.parse(args.grain), args.start, args.end,
                    SegmentFilter.parse(args.filter))


def window_view(args, config: Config) -> WindowQuery:
    if args.start is None or args.end is None:
        raise ParameterError("revenue-window needs both --start and --end")
    return WindowQuery(args.start, args.end, SegmentFilter.parse(args.filter))


def window_export(backend: Backend, view: WindowQuery) -> pd.DataFrame:
    return window_table(revenue_window(backend, view.start, view.end, view.segment))


def funnel_view(args, config: Config) -> FunnelQuery:
    steps = args.steps if isinstance(args.steps, tuple) else step_list(args.steps)
    return FunnelQuery(
        steps=steps, window_days=args.window_days, start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter),
    )


def experiment_view(args, config: Config) -> ExperimentView:
    query = ExperimentQuery(
        experiment=args.experiment, conversion_event=args.conversion_event,
        control=args.control, start=args.start, end=args.end, window_days=args.window_days,
        segment=SegmentFilter.parse(args.filter),
    )
    return ExperimentView(query, parse_declared(config.experiments).get(args.experiment))


def ab_view(args, config: Config) -> ExperimentView | MetricView:
    """The conversion table as it always was, unless a metric or a new flag asks for more."""
    view = experiment_view(args, config)
    plain = (args.metric == "conversion" and not args.cuped and not args.sequential
             and args.breakdown is None and args.pre_days == DEFAULT_PRE_DAYS
             and args.tuning == DEFAULT_TUNING)
    if plain:
        return view
    return MetricView(MetricQuery(view.query, args.metric, args.cuped, args.pre_days,
                                  args.sequential, args.tuning, args.breakdown), view.declared)


def experiment_export(backend: Backend, view: ExperimentView | MetricView) -> pd.DataFrame:
    if isinstance(view, MetricView):
        return metric_result(backend, view).table
    return experiment_result(backend, view).table


EXPORTS = {
    "growth": Export(QUERIES["growth"], broken_down(growth_view),
                     breakdown_export(growth_table, growth_breakdown)),
    "retention": Export(QUERIES["retention"], broken_down(retention_view),
                        breakdown_export(retention_table, retention_breakdown)),
    "revenue": Export(QUERIES["revenue"], revenue_view, revenue_table),
    "revenue-window": Export(QUERIES["revenue_window"], window_view, window_export),
    "stickiness": Export(QUERIES["stickiness"], stickiness_view),
    "engagement": Export(QUERIES["engagement"], engagement_view),
    "ltv": Export(QUERIES["ltv"], ltv_view),
    "funnel": Export(QUERIES["funnel"], funnel_view, funnel_table),
    "ab": Export(QUERIES["experiment"], ab_view, experiment_export),
}


def script_backend(config: Config) -> CachedBackend:
    """The configured backend; uncached, but its queries are logged like the app's."""
    return CachedBackend(open_backend(config), NullCache())


def run_export(args, config: Config) -> int:
    backend = script_backend(config)
    with backend.shared_connection():  # one connection for the export's few queries
        frame = EXPORTS[args.table](backend, args, config)
    target = args.output.open("w", newline="") if args.output else nullcontext(sys.stdout)
    with target as handle:
        write_csv(frame, handle)
    return 0


def run_ask(args, config: Config) -> int:
    """The answer, then the numbers it rests on and the SQL that produced them."""
    from queries.ask import AskContext, ask

    context = AskContext(script_backend(config), GrowthQuery(Grain.parse(args.grain)),
                         parse_declared(config.experiments))
    print(terminal_safe(ask(args.question, context, config).as_text()))
    return 0


# Escape sequences (colours, cursor moves, titles) and other control characters a model may
# write: on a terminal they would run, not show.
ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)")
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """The text with every escape sequence and control character but line breaks and tabs
    removed."""
    return CONTROL_CHARACTER.sub("", ESCAPE_SEQUENCE.sub("", text))


def run_serve(args, config: Config) -> int:
    from app.demo_loader import ensure_data
    from app.factory import create_app
    from app.logs import configure
    from app.warm import warm_in_thread

    # A person at a terminal reads lines; a platform's log collector gets JSON.
    configure(config.log_level, readable=sys.stderr.isatty())
    ensure_data(config)
    dash_app = create_app(config)
    if config.warm_cache:
        warm_in_thread(dash_app, config)
    host = getattr(args, "host", "127.0.0.1")
    port = getattr(args, "port", 8050)
    logging.getLogger(__name__).info("serving on http://%s:%s", host, port)
    dash_app.run(host=host, port=port, debug=getattr(args, "debug", False))
    return 0
