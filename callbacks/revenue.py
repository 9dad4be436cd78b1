"""Revenue view: window KPI cards, the trend with a breakdown, and daily window comparison."""

from __future__ import annotations

from dataclasses import replace

import dash_bootstrap_components as dbc
from dash import Input, Output, no_update

from callbacks.buttons import export_grid_on_click
from callbacks.guard import guarded
from callbacks.view_state import drawn_on_request, filter_bar_inputs, growth_query
from layouts import ids, revenue_charts
from layouts.charts import empty_figure
from layouts.components import empty_state, money, whole, window_card
from queries.bounds import data_bounds
from queries.errors import ParameterError
from queries.periods import Grain, first_incomplete_period, period_index, period_start
from queries.revenue import (
    RevenueQuery,
    WindowComparison,
    revenue_breakdown,
    revenue_trend,
    revenue_window,
)


def window_cards(comparison: WindowComparison) -> list:
    metrics = [
        ("revenue", "Revenue", comparison.revenue, comparison.previous_revenue, money,
         "Sum of revenue over events in the window."),
        ("orders", "Orders", comparison.orders, comparison.previous_orders, whole,
         "Events with a revenue value."),
        ("aov", "Average order value", comparison.aov, comparison.previous_aov, money,
         "Revenue / orders."),
        ("paying_users", "Paying users", comparison.paying_users,
         comparison.previous_paying_users, whole, "Distinct users with at least one order."),
    ]
    return [
        window_card(label, current, previous, formatter, definition, ids.window_card(metric))
        for metric, label, current, previous, formatter, definition in metrics
    ]


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


def render(backend, query: RevenueQuery, breakdown_column, overlay_previous):
    trend = revenue_trend(backend, query)
    if trend.empty or not trend["active_users"].any():
        message = "No events in this date range and segment."
        return empty_state(message), [], empty_figure(message), empty_figure(message), []
    bounds = data_bounds(backend)
    start, end = query.start or bounds.first_day, query.end or bounds.last_day
    comparison = revenue_window(backend, start, end, query.segment)
    daily_query = replace(query, grain=Grain.DAY, start=comparison.previous_start, end=end)
    daily = revenue_trend(backend, daily_query)
    breakdown = revenue_breakdown(backend, query, breakdown_column) if breakdown_column else None
    grid = trend.assign(period_start=trend["period_start"].astype(str))
    return (
        status(partial_window_notes(comparison, query.grain)),
        window_cards(comparison),
        revenue_charts.trend_figure(trend, breakdown, query.grain.value),
        revenue_charts.window_figure(daily, comparison, overlay_previous),
        grid.astype(object).where(grid.notna(), None).to_dict("records"),
    )


def failure(card, message: str):
    return card, [], empty_figure(message), empty_figure(message), []


def register(app, backend, config) -> None:
    @app.callback(
        Output(ids.REVENUE_STATUS, "children"),
        Output(ids.REVENUE_KPIS, "children"),
        Output(ids.REVENUE_TREND, "figure"),
        Output(ids.REVENUE_WINDOW_CHART, "figure"),
        Output(ids.REVENUE_GRID, "rowData"),
        *drawn_on_request(app, ids.REVENUE_REQUEST, [
            *filter_bar_inputs(),
            Input(ids.REVENUE_BREAKDOWN, "value"),
            Input(ids.REVENUE_OVERLAY_PREVIOUS, "value"),
        ]),
        prevent_initial_call=True,
    )
    def update_revenue(_request, grain, start, end, activity, segment_values, segment_ids,
                       breakdown, overlay_previous):
        try:
            view = growth_query(grain, start, end, activity, segment_values, segment_ids)
            query = RevenueQuery(view.grain, view.start, view.end, view.segment)
        except ParameterError:
            return (no_update,) * 5  # the filter bar explains what to fix
        return guarded(
            "Revenue", lambda: render(backend, query, breakdown, bool(overlay_previous)), failure
        )

    export_grid_on_click(app, ids.REVENUE_EXPORT, ids.REVENUE_GRID)
