"""Retention view: the triangle query, shaped into a heatmap, a curve and a wide grid."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
from dash import Input, Output, State, no_update

from callbacks.panel import Panel, by_property
from callbacks.url_state import Kind, UrlField
from callbacks.view_state import chosen, parse_date
from layouts import ids, retention_charts
from layouts import retention as layout
from layouts.charts import empty_figure, value_colours
from layouts.components import empty_state
from layouts.retention_charts import HEATMAP_COHORTS
from queries.breakdown import retention_breakdown
from queries.options import column_values
from queries.periods import Grain
from queries.retention import RetentionMode, RetentionQuery, retention_table, weighted_average

# More lines than a reader can tell apart on one curve.
MAX_OVERLAY_COHORTS = 10
DEFAULT_PERIODS = {Grain.DAY: 30, Grain.WEEK: 26, Grain.MONTH: 24}
NO_COHORT = "No cohort starts in this date range and segment."


@dataclass(frozen=True)
class RetentionRequest:
    query: RetentionQuery
    show_counts: bool
    max_periods: int
    overlay: list | None
    breakdown: str | None = None


@dataclass(frozen=True)
class RetentionResult:
    table: pd.DataFrame
    by_segment: pd.DataFrame | None = None  # the breakdown's triangles, a segment column first
    colours: dict | None = None


def retention_query(view, mode, start_event, return_event, first_day) -> RetentionQuery:
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


def parse(view, controls, _context) -> RetentionRequest:
    query = retention_query(
        view, controls.get("mode"), controls.get("start_event"), controls.get("return_event"),
        parse_date(controls.get("first_day"), "First"),
    )
    overlay = chosen(controls.get("overlay"), "cohorts to overlay", MAX_OVERLAY_COHORTS)
    return RetentionRequest(query, controls.get("values") == "users",
                            periods_shown(controls.get("max_periods"), query.grain), overlay,
                            controls.get("breakdown") or None)


def compute(context, request: RetentionRequest) -> RetentionResult:
    backend, column = context.backend, request.breakdown
    table = retention_table(backend, request.query)
    if not column:
        return RetentionResult(table)
    return RetentionResult(table, retention_breakdown(backend, request.query, column),
                           value_colours(column_values(backend, column)))


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
    if cohorts <= HEATMAP_COHORTS:
        return None
    return empty_state(
        f"The heatmap shows the latest {HEATMAP_COHORTS} of {cohorts} cohorts; the table "
        "below and its CSV hold them all. Narrow the date range to see earlier cohorts."
    )


def curve(result: RetentionResult, request: RetentionRequest, average) -> dict:
    if result.by_segment is None:
        return retention_charts.curve_figure(result.table, average, request.overlay,
                                             request.max_periods)
    averages = {value: weighted_average(rows.drop(columns="segment"))
                for value, rows in result.by_segment.groupby("segment", sort=False)}
    return retention_charts.segment_curves_figure(averages, request.max_periods,
                                                  request.breakdown, result.colours or {})


def render(result: RetentionResult, request: RetentionRequest) -> dict:
    table = result.table
    if table.empty:
        return failure(empty_state(NO_COHORT), NO_COHORT)
    query, max_periods, show_counts = request.query, request.max_periods, request.show_counts
    average = weighted_average(table)
    cohorts = sorted(table["cohort_start"].unique())
    recent = table[table["cohort_start"].isin(cohorts[-HEATMAP_COHORTS:])]
    shown = min(max_periods, int(table["period_index"].max()))
    heatmap, labels = retention_charts.heatmap_figure(recent, average, show_counts, max_periods)
    return {
        "status": heatmap_note(len(cohorts)),
        "heatmap": heatmap,
        "heatmap_labels": retention_charts.heatmap_labels(labels),
        "heatmap_width": retention_charts.heatmap_width(shown + 1),
        "curve": curve(result, request, average),
        "grid_columns": layout.grid_columns(list(range(shown + 1)), show_counts),
        "grid_rows": grid_rows(table, max_periods, show_counts),
        "overlay_options": [c.isoformat() for c in reversed(cohorts)],
        "export": {"fileName": f"retention_{query.grain.value}_{query.mode.value}.csv",
                   "processCellCallback": {"function": "neutraliseFormula(params)"}},
    }


def failure(status, message: str) -> dict:
    empty = empty_figure(message)
    return {"status": status, "heatmap": empty, "heatmap_labels": [], "heatmap_width": {},
            "curve": empty, "grid_columns": [],
            "grid_rows": [], "overlay_options": [], "export": no_update}


def register_period_default(app) -> None:
    """"Periods shown" follows the grain until someone sets another number; in the browser,
    so a grain change costs no round trip."""
    defaults = json.dumps({grain.value: periods for grain, periods in DEFAULT_PERIODS.items()})
    # A number someone chose (or a link carried) is not a grain's default: it stays.
    app.clientside_callback(
        f"""function (grain, current) {{
            var d = {defaults};
            var chosen = current != null && Object.values(d).indexOf(Number(current)) < 0;
            return chosen ? window.dash_clientside.no_update : (d[grain] || d.week);
        }}""",
        Output(ids.RETENTION_MAX_PERIODS, "value"),
        Input(ids.GRAIN, "value"),
        State(ids.RETENTION_MAX_PERIODS, "value"),
    )


PANEL = Panel(
    name="retention", label="Retention", title="Retention", tab=ids.TAB_RETENTION,
    layout=lambda options: layout.panel(options.filters.event_types,
                                        list(options.filters.segments)),
    status=ids.RETENTION_STATUS,
    outputs=by_property(
        figure={"heatmap": ids.RETENTION_HEATMAP, "curve": ids.RETENTION_CURVE},
        children={"heatmap_labels": ids.RETENTION_HEATMAP_LABELS},
        style={"heatmap_width": ids.RETENTION_HEATMAP_BOX},
        columnDefs={"grid_columns": ids.RETENTION_GRID},
        rowData={"grid_rows": ids.RETENTION_GRID},
        options={"overlay_options": ids.RETENTION_OVERLAY},
        csvExportParams={"export": ids.RETENTION_GRID},
    ),
    controls=by_property(value={
        "mode": ids.RETENTION_MODE, "values": ids.RETENTION_VALUES,
        "start_event": ids.RETENTION_START_EVENT, "return_event": ids.RETENTION_RETURN_EVENT,
        "max_periods": ids.RETENTION_MAX_PERIODS, "overlay": ids.RETENTION_OVERLAY,
        "breakdown": ids.RETENTION_BREAKDOWN,
    }),
    state=by_property(min_date_allowed={"first_day": ids.DATE_RANGE}),
    parse=parse, compute=compute, render=render, failure=failure,
    url_fields=(
        UrlField("mode", "mode", Kind.ONE, "retention mode"),
        UrlField("show", "values", Kind.ONE, "retention values"),
        UrlField("cohort-event", "start_event", Kind.ONE, "cohort event"),
        UrlField("return-event", "return_event", Kind.ONE, "return event"),
        UrlField("periods", "max_periods", Kind.NUMBER, "periods shown",
                 default_by_grain={grain.value: n for grain, n in DEFAULT_PERIODS.items()}),
        UrlField("overlay", "overlay", Kind.MANY, "overlay cohorts", options_later=True),
        UrlField("retention-by", "breakdown", Kind.ONE, "retention breakdown"),
    ),
    exports={ids.RETENTION_EXPORT: ids.RETENTION_GRID},
    extra_callbacks=register_period_default,
)
