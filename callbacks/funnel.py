"""Conversion funnel: ordered steps within a window, overall and per segment."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from callbacks.panel import Panel, by_property
from callbacks.url_state import Kind, UrlField
from callbacks.view_state import chosen
from layouts import ids, revenue_charts
from layouts import revenue as layout
from layouts.charts import empty_figure, value_colours
from queries.errors import ParameterError
from queries.filters import ACTIVITY_COLUMN
from queries.funnel import MAX_STEPS, FunnelQuery, funnel_breakdown, funnel_table
from queries.options import column_values


@dataclass(frozen=True)
class FunnelResult:
    overall: pd.DataFrame
    by_segment: pd.DataFrame | None
    colours: dict | None = None  # per value of the breakdown column, the same on every chart


def funnel_query(view, steps, window_days, breakdown) -> FunnelQuery:
    try:
        window = float(window_days)
    except (TypeError, ValueError):
        raise ParameterError("the conversion window must be a number of days") from None
    # The funnel's steps say which event types matter; the activity filter does not apply.
    segment = view.segment.with_values(ACTIVITY_COLUMN, [])
    steps = tuple(chosen(steps, "funnel steps", MAX_STEPS))
    return FunnelQuery(steps, window, view.start, view.end, segment, breakdown)


def parse(view, controls, _context) -> FunnelQuery:
    return funnel_query(view, controls.get("steps"), controls.get("window_days"),
                        controls.get("breakdown"))


def compute(context, query: FunnelQuery) -> FunnelResult:
    overall = funnel_table(context.backend, query)
    if not query.breakdown:
        return FunnelResult(overall, None)
    return FunnelResult(overall, funnel_breakdown(context.backend, query),
                        value_colours(column_values(context.backend, query.breakdown)))


def rows(table) -> list[dict]:
    return table.astype(object).where(table.notna(), None).to_dict("records")


def render(result: FunnelResult, _query: FunnelQuery) -> dict:
    table = result.overall.assign(segment_value="all")
    by_segment = result.by_segment
    return {
        "status": None,
        "chart": revenue_charts.funnel_figure(result.overall),
        "breakdown_chart": revenue_charts.funnel_breakdown_figure(
            by_segment if by_segment is not None else table, result.colours),
        "grid_rows": rows(table) + (rows(by_segment) if by_segment is not None else []),
    }


def failure(status, message: str) -> dict:
    return {"status": status, "chart": empty_figure(message),
            "breakdown_chart": empty_figure(message), "grid_rows": []}


PANEL = Panel(
    name="funnel", label="Funnel", title="The funnel", tab=ids.TAB_REVENUE,
    layout=lambda options: layout.funnel_section(options.filters.event_types,
                                                 list(options.filters.segments)),
    status=ids.FUNNEL_STATUS,
    outputs=by_property(
        figure={"chart": ids.FUNNEL_CHART, "breakdown_chart": ids.FUNNEL_BREAKDOWN_CHART},
        rowData={"grid_rows": ids.FUNNEL_GRID},
    ),
    controls=by_property(value={"steps": ids.FUNNEL_STEPS, "window_days": ids.FUNNEL_WINDOW_DAYS,
                                "breakdown": ids.FUNNEL_BREAKDOWN}),
    parse=parse, compute=compute, render=render, failure=failure,
    url_fields=(
        UrlField("step", "steps", Kind.MANY, "funnel steps", required=True),
        UrlField("funnel-window", "window_days", Kind.NUMBER, "funnel window (days)"),
        UrlField("funnel-by", "breakdown", Kind.ONE, "funnel breakdown"),
    ),
    exports={ids.FUNNEL_EXPORT: ids.FUNNEL_GRID},
)
