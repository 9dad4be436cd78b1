"""`python -m app [serve|load|demo|export ...]`: the dashboard's tables, for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from contextlib import nullcontext
from pathlib import Path

from app.config import Config
from app.csv_export import write_csv
from app.validation import LoadError
from queries.backends import BackendError, DuckDBBackend
from queries.errors import ParameterError
from queries.experiments import ExperimentQuery, parse_declared, run_experiment
from queries.filters import FilterError, SegmentFilter
from queries.funnel import DEFAULT_STEPS, FunnelQuery, funnel_table
from queries.growth import GrowthQuery, growth_table
from queries.periods import Grain
from queries.retention import RetentionMode, RetentionQuery, retention_table
from queries.revenue import RevenueQuery, revenue_table, revenue_window, window_table


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

    load = commands.add_parser("load", help="load events (CSV or Parquet) into the DuckDB file")
    load.add_argument("events", type=Path, metavar="EVENTS_FILE")
    load.add_argument("--assignments", type=Path, metavar="FILE")
    load.add_argument("--replace", action="store_true", help="reload a file loaded before")
    add_db_option(load)

    demo = commands.add_parser("demo", help="write the generated demo data set")
    demo.add_argument("--users", type=positive_int)
    demo.add_argument("--seed", type=int)
    demo.add_argument("--end-date", type=iso_date, help="last day of data (default: today)")
    demo.add_argument("--replace", action="store_true", help="replace data already there")
    add_db_option(demo)

    export = commands.add_parser("export", help="write a table as CSV")
    tables = export.add_subparsers(dest="table", required=True)
    growth = tables.add_parser("growth", help="growth accounting per period")
    growth.add_argument("--grain", choices=[g.value for g in Grain], default="week")
    add_view_options(growth)

    retention = tables.add_parser("retention", help="retention per cohort and period index")
    retention.add_argument("--grain", choices=[g.value for g in Grain], default="week")
    retention.add_argument("--mode", choices=[m.value for m in RetentionMode], default="exact")
    retention.add_argument("--start-event", help="event type that puts a user in a cohort")
    retention.add_argument("--return-event", help="event type that counts as coming back")
    add_view_options(retention)

    revenue = tables.add_parser("revenue", help="revenue, orders and AOV per period")
    revenue.add_argument("--grain", choices=[g.value for g in Grain], default="week")
    add_view_options(revenue)

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
    ab.add_argument("--window-days", type=float, help="count conversions within N days")
    add_view_options(ab)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {None: run_serve, "serve": run_serve, "load": run_load, "demo": run_demo}
    handlers["export"] = run_export
    try:
        config = Config.from_env().with_db(getattr(args, "db", None))
    except ValueError as error:  # a malformed setting in the environment
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        return handlers[args.command](args, config) or 0
    except (LoadError, BackendError, ParameterError, FilterError) as error:
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

    events = Source(args.events.name, path=args.events)
    assignments = Source(args.assignments.name, path=args.assignments) if args.assignments else None
    load(config.duckdb_path, events, assignments, replace=args.replace)
    return 0


def run_demo(args, config: Config) -> int:
    from app.demo_loader import write_demo

    write_demo(
        config.duckdb_path, users=args.users or config.demo_users, seed=args.seed,
        end_date=args.end_date, replace=args.replace,
    )
    return 0


def export_growth(backend, args, config: Config):
    query = GrowthQuery(
        grain=Grain.parse(args.grain), start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter),
    )
    return growth_table(backend, query)


def export_retention(backend, args, config: Config):
    query = RetentionQuery(
        grain=Grain.parse(args.grain), start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter), mode=RetentionMode.parse(args.mode),
        start_events=(args.start_event,) if args.start_event else None,
        return_events=(args.return_event,) if args.return_event else None,
    )
    return retention_table(backend, query)


def export_revenue(backend, args, config: Config):
    query = RevenueQuery(
        grain=Grain.parse(args.grain), start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter),
    )
    return revenue_table(backend, query)


def export_revenue_window(backend, args, config: Config):
    if args.start is None or args.end is None:
        raise ParameterError("revenue-window needs both --start and --end")
    comparison = revenue_window(backend, args.start, args.end, SegmentFilter.parse(args.filter))
    return window_table(comparison)


def export_funnel(backend, args, config: Config):
    steps = args.steps if isinstance(args.steps, tuple) else step_list(args.steps)
    query = FunnelQuery(
        steps=steps, window_days=args.window_days, start=args.start, end=args.end,
        segment=SegmentFilter.parse(args.filter),
    )
    return funnel_table(backend, query)


def export_ab(backend, args, config: Config):
    query = ExperimentQuery(
        experiment=args.experiment, conversion_event=args.conversion_event,
        control=args.control, start=args.start, end=args.end, window_days=args.window_days,
        segment=SegmentFilter.parse(args.filter),
    )
    return run_experiment(backend, query, parse_declared(config.experiments)).table


EXPORTS = {
    "growth": export_growth,
    "retention": export_retention,
    "revenue": export_revenue,
    "revenue-window": export_revenue_window,
    "funnel": export_funnel,
    "ab": export_ab,
}


def run_export(args, config: Config) -> int:
    frame = EXPORTS[args.table](DuckDBBackend(config.duckdb_path), args, config)
    target = args.output.open("w", newline="") if args.output else nullcontext(sys.stdout)
    with target as handle:
        write_csv(frame, handle)
    return 0


def run_serve(args, config: Config) -> int:
    from app.demo_loader import ensure_data
    from app.factory import create_app

    ensure_data(config)
    dash_app = create_app(config)
    host = getattr(args, "host", "127.0.0.1")
    port = getattr(args, "port", 8050)
    print(f"serving on http://{host}:{port}", file=sys.stderr)
    dash_app.run(host=host, port=port, debug=getattr(args, "debug", False))
    return 0
