"""Revenue view: window KPI cards, the trend with a breakdown, and daily window comparison."""

from __future__ import annotations

from dataclasses import dataclass, replace

import dash_bootstrap_components as dbc
import pandas as pd

from callbacks.panel import Panel, by_property
from callbacks.url_state import Kind, UrlField
from layouts import ids, revenue_charts
from layouts import revenue as layout
from layouts.charts import empty_figure, previous_lines, value_colours
from layouts.components import empty_state
from queries.bounds import data_bounds
from queries.metrics import REVENUE
from queries.options import column_values
from queries.periods import Grain, first_incomplete_period, period_index, period_start
from queries.revenue import (
    RevenueQuery,
    WindowComparison,
    revenue_breakdown,
    revenue_trend,
    revenue_window,
)
from queries.view import previous_range, shifted_forward

NO_EVENTS = "No events in this date range and segment."


@dataclass(frozen=True)
class RevenueRequest:
    query: RevenueQuery
    breakdown_column: str | None
    overlay_previous: bool
    compare: bool = False  # the trend's previous range of equal length, dashed


@dataclass(frozen=True)
class RevenueResult:
    trend: pd.DataFrame
    comparison: WindowComparison | None = None
    daily: pd.DataFrame | None = None
    breakdown: pd.DataFrame | None = None
    colours: dict | None = None  # per value of the breakdown column, the same on every chart
    previous: pd.DataFrame | None = None  # the previous range's trend over the current periods


def partial_window_notes(comparison: WindowComparison, grain: Grain) -> list[str]:
    """Say so whenever the current window is not a full one, so no partial set is compared
    silently against a full one."""
    notes = []
    if comparison.days_with_data < comparison.days:
        notes.append(
            f"The data ends on {comparison.data_end:%d %b %Y}: the selected window has data for"
            f" {comparison.days_with_data} of its {comparison.days} days, against a full previous"
            " window."
        )
    end_period = period_index(min(comparison.end, comparison.data_end), grain)
    if end_period >= first_incomplete_period(comparison.data_end, grain):
        started = period_start(end_period, grain)
        notes.append(
            f"The range ends in the {grain.value} starting {started:%d %b %Y}, which is still"
            " in progress (shaded in the trend)."
        )
    return notes


def status(notes: list[str]):
    if not notes:
        return None
    return dbc.Alert([dbc.Row(note) for note in notes], color="warning",
                     className="py-2 small revenue-partial-note")


def parse(view, controls, _context) -> RevenueRequest:
    return RevenueRequest(RevenueQuery(view.grain, view.start, view.end, view.segment),
                          controls.get("breakdown"), bool(controls.get("overlay_previous")),
                          bool(controls.get("compare")))


def compute(context, request: RevenueRequest) -> RevenueResult:
    backend, query = context.backend, request.query
    trend = revenue_trend(backend, query)
    if trend.empty or not trend["active_users"].any():
        return RevenueResult(trend)
    bounds = data_bounds(backend)
    start, end = query.start or bounds.first_day, query.end or bounds.last_day
    comparison = revenue_window(backend, start, end, query.segment)
    daily = revenue_trend(backend, replace(query, grain=Grain.DAY,
                                           start=comparison.previous_start, end=end))
    breakdown = colours = None
    if request.breakdown_column:
        breakdown = revenue_breakdown(backend, query, request.breakdown_column)
        colours = value_colours(column_values(backend, request.breakdown_column))
    previous = None
    earlier = previous_range(query, bounds) if request.compare else None
    if earlier is not None:
        previous = shifted_forward(revenue_trend(backend, earlier[0]), earlier[1], query.grain)
    return RevenueResult(trend, comparison, daily, breakdown, colours, previous)


def render(result: RevenueResult, request: RevenueRequest) -> dict:
    if result.comparison is None:
        return failure(empty_state(NO_EVENTS), NO_EVENTS)
    trend, comparison = result.trend, result.comparison
    grid = trend.assign(period_start=trend["period_start"].astype(str))
    return {
        "status": status(partial_window_notes(comparison, request.query.grain)),
        "kpis": layout.window_cards(comparison),
        "trend": trend_with_previous(result, request),
        "window_chart": revenue_charts.window_figure(result.daily, comparison,
                                                     request.overlay_previous),
        "grid_rows": grid.astype(object).where(grid.notna(), None).to_dict("records"),
    }


def trend_with_previous(result: RevenueResult, request: RevenueRequest) -> dict:
    figure = revenue_charts.trend_figure(result.trend, result.breakdown,
                                         request.query.grain.value, result.colours)
    figure["data"] += previous_lines(result.trend, result.previous, [
        (REVENUE["revenue"], "y", 1), (REVENUE["orders"], "y2", 1), (REVENUE["aov"], "y3", 1)])
    # The dashed lines share the rows' x axes.
    for line, axis in zip(figure["data"][-3:] if result.previous is not None else [],
                          ("x", "x2", "x3"), strict=False):
        line["xaxis"] = axis
    return figure


def failure(status_line, message: str) -> dict:
    return {"status": status_line, "kpis": [], "trend": empty_figure(message),
            "window_chart": empty_figure(message), "grid_rows": []}


PANEL = Panel(
    name="revenue", label="Revenue", title="Revenue", tab=ids.TAB_REVENUE,
    layout=lambda options: layout.revenue_section(list(options.filters.segments)),
    status=ids.REVENUE_STATUS,
    outputs=by_property(
        children={"kpis": ids.REVENUE_KPIS},
        figure={"trend": ids.REVENUE_TREND, "window_chart": ids.REVENUE_WINDOW_CHART},
        rowData={"grid_rows": ids.REVENUE_GRID},
    ),
    controls=by_property(value={"breakdown": ids.REVENUE_BREAKDOWN,
                                "overlay_previous": ids.REVENUE_OVERLAY_PREVIOUS,
                                "compare": ids.REVENUE_COMPARE}),
    parse=parse, compute=compute, render=render, failure=failure,
    url_fields=(
        UrlField("revenue-by", "breakdown", Kind.ONE, "revenue breakdown"),
        UrlField("previous", "overlay_previous", Kind.FLAG, "previous-window overlay"),
        UrlField("revenue-compare", "compare", Kind.FLAG, "comparison with the previous period"),
    ),
    exports={ids.REVENUE_EXPORT: ids.REVENUE_GRID},
)
