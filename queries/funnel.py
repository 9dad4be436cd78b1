"""Ordered conversion funnels over event types, with a conversion window and a breakdown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.bounds import DataBounds, data_bounds
from queries.errors import ParameterError, check_date_range
from queries.filters import FilterError, SegmentFilter
from queries.growth import filterable_columns
from queries.query_spec import Kind, QuerySpec, run_query
from queries.revenue import NO_SEGMENT

STEPS = {
    "step": Kind.COUNT,
    "event_type": Kind.TEXT,
    "users": Kind.COUNT,
    "conversion_from_previous": Kind.NUMBER,
    "conversion_from_first": Kind.NUMBER,
    "median_seconds_from_previous": Kind.NUMBER,
}
COLUMNS = list(STEPS)
DEFAULT_STEPS = ("page_view", "add_to_cart", "purchase")
MAX_STEPS = 10


@dataclass(frozen=True)
class FunnelQuery:
    steps: tuple[str, ...] = DEFAULT_STEPS
    window_days: float = 7
    start: dt.date | None = None
    end: dt.date | None = None
    segment: SegmentFilter = field(default_factory=SegmentFilter)
    breakdown: str | None = None

    def __post_init__(self):
        if not 2 <= len(self.steps) <= MAX_STEPS:
            raise ParameterError(f"a funnel needs 2 to {MAX_STEPS} steps, not {len(self.steps)}")
        if any(not step for step in self.steps):
            raise ParameterError("a funnel step cannot be empty")
        if not 0 < self.window_days <= 366:
            raise ParameterError("the conversion window must be between 0 and 366 days")
        check_date_range(self.start, self.end)


def later_steps_sql(backend: Backend, steps: tuple[str, ...], segment_sql: str) -> str:
    blocks = []
    for step in range(2, len(steps) + 1):
        # A step repeating an earlier one needs another event, not the one already used.
        repeated = steps[step - 1] in steps[: step - 1]
        blocks.append(sql_files.render(
            "funnel_step",
            step=str(step),
            previous=str(step - 1),
            events=backend.relation(schema.EVENTS),
            segment_filter=segment_sql,
            after=">" if repeated else ">=",
            not_after="<=" if repeated else "<",
            window_end=backend.dialect.add_seconds("previous.t1", "window_seconds"),
        ))
    return "\n".join(blocks)


def step_medians_sql(backend: Backend, count: int) -> str:
    dialect = backend.dialect
    return ",\n        ".join(
        dialect.median_over(dialect.seconds_between(f"t{step - 1}", f"t{step}"), "breakdown_value")
        + f" as median_seconds_{step}"
        for step in range(2, count + 1)
    )


def step_aggregates_sql(count: int) -> str:
    parts = ["count(*) as users_1"]
    for step in range(2, count + 1):
        parts.append(f"count(t{step}) as users_{step}")
        # Every row of a breakdown value holds the same median.
        parts.append(f"max(median_seconds_{step}) as median_seconds_{step}")
    return ",\n    ".join(parts)


def earliest_times_sql(count: int) -> str:
    return ",\n        ".join(f"min(t{step}) as t{step}" for step in range(1, count + 1))


def funnel_sql(backend: Backend, query: FunnelQuery, bounds: DataBounds) -> tuple[str, dict]:
    dialect = backend.dialect
    columns = filterable_columns(backend)
    segment_sql, params = query.segment.to_sql(dialect, columns)
    if query.breakdown and query.breakdown not in schema.segment_columns(backend.event_columns()):
        raise FilterError(f"cannot break down by {query.breakdown!r}")
    count = len(query.steps)
    sql = sql_files.render(
        "funnel",
        events=backend.relation(schema.EVENTS),
        segment_filter=segment_sql,
        breakdown_value=dialect.quote(query.breakdown) if query.breakdown else "'all'",
        later_steps=later_steps_sql(backend, query.steps, segment_sql),
        step_count=str(count),
        steps_reached=" + ".join(
            f"case when t{step} is not null then 1 else 0 end" for step in range(1, count + 1)
        ),
        earliest_times=earliest_times_sql(count),
        step_medians=step_medians_sql(backend, count),
        step_aggregates=step_aggregates_sql(count),
    )
    start, end = query.start or bounds.first_day, query.end or bounds.last_day
    params |= {f"step_{i}": step for i, step in enumerate(query.steps, start=1)}
    window_seconds = round(query.window_days * 86400)
    end_time = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    params |= {
        "start_time": dt.datetime.combine(start, dt.time()),
        "end_time": end_time,
        "window_seconds": window_seconds,
        "last_step_time": end_time + dt.timedelta(seconds=window_seconds),
    }
    return dialect.bind_parameters(sql), params


def steps_table(row: pd.Series | None, steps: tuple[str, ...]) -> pd.DataFrame:
    """One row per step: users, conversion from the previous and the first step, median time."""
    rows = []
    first = int(row["users_1"]) if row is not None else 0
    previous = first
    for number, event_type in enumerate(steps, start=1):
        users = int(row[f"users_{number}"]) if row is not None else 0
        median = None if number == 1 or row is None else row[f"median_seconds_{number}"]
        rows.append({
            "step": number,
            "event_type": event_type,
            "users": users,
            "conversion_from_previous": users / previous if previous else None,
            "conversion_from_first": users / first if first else None,
            "median_seconds_from_previous": None if pd.isna(median) else float(median),
        })
        previous = users
    return pd.DataFrame(rows, columns=COLUMNS)


def segment_label(value) -> str:
    return NO_SEGMENT if value is None or pd.isna(value) else str(value)


def stacked_steps(frame: pd.DataFrame, query: FunnelQuery) -> pd.DataFrame:
    """The SQL's one row per breakdown value as one steps table each, stacked."""
    tables = [
        steps_table(row, query.steps).assign(segment_value=segment_label(row["breakdown_value"]))
        for _, row in frame.iterrows()
    ]
    if not tables:
        return pd.DataFrame(columns=["segment_value", *COLUMNS])
    return pd.concat(tables, ignore_index=True)


FUNNEL_SPEC = QuerySpec(
    name="funnel", view=FunnelQuery, render=funnel_sql,
    columns={"segment_value": Kind.TEXT, **STEPS},
    parameters=(
        "step_*", "start_time", "end_time", "window_seconds", "last_step_time", "filter_*",
    ),
    includes=("funnel_step",), bounds=data_bounds, shape=stacked_steps,
)


def funnel_table(backend: Backend, query: FunnelQuery) -> pd.DataFrame:
    """The funnel over everyone (the breakdown, if any, is summed away)."""
    stacked = run_query(backend, FUNNEL_SPEC, replace(query, breakdown=None))
    if stacked.empty:  # nobody entered: every step with 0 users
        return steps_table(None, query.steps)
    return stacked[COLUMNS]


def funnel_breakdown(backend: Backend, query: FunnelQuery) -> pd.DataFrame:
    """One steps table per breakdown value, stacked, with a `segment_value` column first."""
    return run_query(backend, FUNNEL_SPEC, query)

