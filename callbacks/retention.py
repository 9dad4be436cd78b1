"""Retention view: the triangle query, shaped into a heatmap, a curve and a wide grid."""

from __future__ import annotations

import datetime as dt

from dash import Input, Output, State, no_update

from callbacks.buttons import export_grid_on_click
from callbacks.guard import guarded
from callbacks.view_state import (
    drawn_on_request,
    filter_bar_inputs,
    growth_query,
    parse_date,
)
from layouts import ids, retention_charts
from layouts.charts import empty_figure
from layouts.components import empty_state
from layouts.retention import grid_columns
from queries.errors import ParameterError
from queries.periods import Grain
from queries.retention import RetentionMode, RetentionQuery, retention_table, weighted_average

DEFAULT_PERIODS = {Grain.DAY: 30, Grain.WEEK: 26, Grain.MONTH: 24}
MAX_HEATMAP_COHORTS = 60


def retention_query(
    filter_values, mode, start_event, return_event, first_day: dt.date | None
) -> RetentionQuery:
    view = growth_query(*filter_values)
    # The picker starts on the data's first day by default, usually mid-period: that means
    # "from the beginning", not "drop the first cohort because its period began earlier".
    start = None if view.start and first_day and view.start <= first_day else view.start
    return RetentionQuery(
        view.grain, start, view.end, view.segment, RetentionMode.parse(mode or "exact"),
        (start_event,) if start_event else None, (return_event,) if return_event else None,
    )


def periods_shown(value, grain: Grain) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_PERIODS[grain]


def grid_rows(table, max_periods: int, show_counts: bool) -> list[dict]:
    value = "retained_users" if show_counts else "retention_rate"
    rows = {}
    for cell in table[table["period_index"] <= max_periods].itertuples(index=False):
        row = rows.setdefault(cell.cohort_start, {
            "cohort_start": cell.cohort_start.isoformat(), "cohort_size": cell.cohort_size})
        row[f"k{cell.period_index}"] = getattr(cell, value)
        if not cell.is_complete:  # the grid's cellClassRules read a missing flag as false
            row[f"open_k{cell.period_index}"] = True
    return list(rows.values())


def heatmap_note(cohorts: int):
    if cohorts <= MAX_HEATMAP_COHORTS:
        return None
    return empty_state(
        f"The heatmap shows the latest {MAX_HEATMAP_COHORTS} of {cohorts} cohorts; the table "
        "below and its CSV hold them all. Narrow the date range to see earlier cohorts."
    )


def render(table, query: RetentionQuery, show_counts: bool, max_periods: int, overlay):
    average = weighted_average(table)
    cohorts = sorted(table["cohort_start"].unique())
    recent = table[table["cohort_start"].isin(cohorts[-MAX_HEATMAP_COHORTS:])]
    shown = min(max_periods, int(table["period_index"].max()))
    options = [c.isoformat() for c in reversed(cohorts)]
    return (
        heatmap_note(len(cohorts)),
        retention_charts.heatmap_figure(recent, average, show_counts, max_periods),
        retention_charts.curve_figure(table, average, overlay, max_periods),
        grid_columns(list(range(shown + 1)), show_counts),
        grid_rows(table, max_periods, show_counts),
        options,
        {"fileName": f"retention_{query.grain.value}_{query.mode.value}.csv",
         "processCellCallback": {"function": "neutraliseFormula(params)"}},
    )


def render_retention(backend, query, show_counts: bool, max_periods: int, overlay):
    table = retention_table(backend, query)
    if table.empty:
        message = "No cohort starts in this date range and segment."
        return failure(empty_state(message), message)
    return render(table, query, show_counts, max_periods, overlay)


def failure(status, message: str):
    empty = empty_figure(message)
    return status, empty, empty, [], [], [], no_update


def register(app, backend, config) -> None:
    @app.callback(
        Output(ids.RETENTION_STATUS, "children"),
        Output(ids.RETENTION_HEATMAP, "figure"),
        Output(ids.RETENTION_CURVE, "figure"),
        Output(ids.RETENTION_GRID, "columnDefs"),
        Output(ids.RETENTION_GRID, "rowData"),
        Output(ids.RETENTION_OVERLAY, "options"),
        Output(ids.RETENTION_GRID, "csvExportParams"),
        *drawn_on_request(app, ids.RETENTION_REQUEST, [
            *filter_bar_inputs(),
            Input(ids.RETENTION_MODE, "value"),
            Input(ids.RETENTION_VALUES, "value"),
            Input(ids.RETENTION_START_EVENT, "value"),
            Input(ids.RETENTION_RETURN_EVENT, "value"),
            Input(ids.RETENTION_MAX_PERIODS, "value"),
            Input(ids.RETENTION_OVERLAY, "value"),
        ]),
        State(ids.DATE_RANGE, "min_date_allowed"),
        prevent_initial_call=True,
    )
    def update_retention(_request, grain, start, end, activity, segment_values, segment_ids,
                         mode, values, start_event, return_event, max_periods, overlay,
                         first_day):
        filter_values = (grain, start, end, activity, segment_values, segment_ids)
        try:
            first = parse_date(first_day, "First")
            query = retention_query(filter_values, mode, start_event, return_event, first)
        except ParameterError:
            return (no_update,) * 7  # the filter bar explains what to fix
        shown = periods_shown(max_periods, query.grain)
        return guarded(
            "Retention",
            lambda: render_retention(backend, query, values == "users", shown, overlay),
            failure,
        )

    @app.callback(
        Output(ids.RETENTION_MAX_PERIODS, "value"),
        Input(ids.GRAIN, "value"),
    )
    def default_periods_for_grain(grain):
        return DEFAULT_PERIODS[Grain.parse(grain or "week")]

    export_grid_on_click(app, ids.RETENTION_EXPORT, ids.RETENTION_GRID)
