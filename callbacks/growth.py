"""Growth view: one query per change of the filter bar, shaped into cards, charts and a grid."""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, ClientsideFunction, Input, Output, no_update

from callbacks.panel import Panel, by_property
from callbacks.url_state import Kind, UrlField
from layouts import charts, ids
from layouts import growth as layout
from layouts.charts import value_colours
from layouts.components import NO_KPI, KpiTexts, empty_state, kpi_texts
from queries.bounds import data_bounds
from queries.breakdown import growth_breakdown
from queries.growth import GrowthQuery, growth_table, latest_complete_kpis
from queries.metrics import GROWTH, KPIS
from queries.options import column_values
from queries.periods import Grain
from queries.view import previous_range, shifted_forward

PERIOD_NOUN = {Grain.DAY: "Day", Grain.WEEK: "Week of", Grain.MONTH: "Month of"}
NO_ACTIVITY = "No activity in this date range and segment. Widen the range or filters."


@dataclass(frozen=True)
class GrowthResult:
    table: pd.DataFrame
    # The previous range's rows over the current periods (compare), and the breakdown.
    previous: pd.DataFrame | None = None
    by_segment: pd.DataFrame | None = None
    colours: dict | None = None


def period_label(grain: Grain, start) -> str:
    if grain is Grain.MONTH:
        return f"{start:%B %Y}"
    return f"{PERIOD_NOUN[grain]} {start:%d %b %Y}"


def incomplete_note(table, grain: Grain):
    incomplete = table.loc[~table["is_complete"], "period_start"]
    if incomplete.empty:
        return None
    return dbc.Alert(
        f"{period_label(grain, incomplete.iloc[-1])} is still in progress: it is shaded in the"
        " charts and the cards show the latest complete period.",
        color="info", className="py-2 small incomplete-note",
    )


@dataclass(frozen=True)
class GrowthRequest:
    query: GrowthQuery
    smooth: bool = False  # day grain: 7-day averages
    compare: bool = False  # overlay the previous range of equal length
    breakdown: str | None = None  # one line per value of this segment column


def parse(view: GrowthQuery, controls, _context) -> GrowthRequest:
    return GrowthRequest(view, bool(controls.get("smooth")), bool(controls.get("compare")),
                         controls.get("breakdown") or None)


def previous_table(backend, query) -> pd.DataFrame | None:
    previous = previous_range(query, data_bounds(backend))
    if previous is None:
        return None
    view, periods = previous
    return shifted_forward(growth_table(backend, view), periods, query.grain)


def compute(context, request: GrowthRequest) -> GrowthResult:
    backend, query = context.backend, request.query
    if not request.breakdown:
        previous = previous_table(backend, query) if request.compare else None
        return GrowthResult(growth_table(backend, query), previous)
    return GrowthResult(growth_table(backend, query), None,
                        growth_breakdown(backend, query, request.breakdown),
                        value_colours(column_values(backend, request.breakdown)))


def has_activity(table: pd.DataFrame) -> bool:
    return not table.empty and (table["active_users"].any() or table["churned_users"].any())


def render(result: GrowthResult, request: GrowthRequest) -> dict:
    query, smooth = request.query, request.smooth
    table, grain = result.table, query.grain.value
    if not has_activity(table):
        return failure(empty_state(NO_ACTIVITY), NO_ACTIVITY)
    grid_rows = table.assign(period_start=table["period_start"].astype(str))
    grid_rows = grid_rows.astype(object).where(grid_rows.notna(), None).to_dict("records")
    kpis = [kpi_texts(k, period_label(query.grain, k.period_start))
            for k in latest_complete_kpis(table)]
    status = incomplete_note(table, query.grain)
    if not kpis:
        status = empty_state("No complete period in this range yet.")
    return {
        "status": status,
        **kpi_outputs(kpis or [NO_KPI] * len(KPIS)),
        "combined": combined(result, request),
        "metric_charts": [figure for _, figure in charts.metric_figures(table, grain, smooth)],
        "metric_charts_shown": {},
        "grid_rows": grid_rows,
        "export": {"fileName": f"growth_{grain}.csv",
                   "processCellCallback": {"function": "neutraliseFormula(params)"}},
    }


PREVIOUS_SERIES = (("new_users", "y", 1), ("resurrected_users", "y", 1),
                   ("churned_users", "y", -1), ("quick_ratio", "y2", 1))


def combined(result: GrowthResult, request: GrowthRequest) -> dict:
    """The combined chart; with a breakdown, active users per segment value instead; with
    compare, the previous range's series dashed over it."""
    grain = request.query.grain.value
    if result.by_segment is not None:
        return charts.segment_lines_figure(result.by_segment, grain, GROWTH["active_users"],
                                           request.breakdown, result.colours or {})
    figure = charts.combined_figure(result.table, grain, request.smooth)
    figure["data"] += charts.previous_lines(
        result.table, result.previous,
        [(GROWTH[column], axis, sign) for column, axis, sign in PREVIOUS_SERIES])
    return figure


def kpi_outputs(cards: list[KpiTexts]) -> dict:
    """The cards' texts, one list per part, in KPIS order (the cards' order on the page)."""
    return {"kpi_values": [card.value for card in cards],
            "kpi_changes": [card.change for card in cards],
            "kpi_tones": [card.change_class for card in cards],
            "kpi_periods": [card.period for card in cards]}


def failure(status, message: str) -> dict:
    return {"status": status, **kpi_outputs([NO_KPI] * len(KPIS)),
            "combined": charts.empty_figure(message),
            "metric_charts": [charts.empty_figure("", height=240)] * len(KPIS),
            "metric_charts_shown": {"display": "none"}, "grid_rows": [], "export": no_update}


def register_drawing_when_shown(app) -> None:
    """The metric charts sit below the fold: a view's figures reach them only while they are
    on screen (assets/panels.js), so a change of view costs the browser one chart, not eight."""
    app.clientside_callback(
        ClientsideFunction("panels", "drawWhenShown"),
        Output(ids.metric_graph(ALL), "figure"),
        Input(ids.GROWTH_METRIC_FIGURES, "data"),
        Input(ids.GROWTH_METRIC_CHARTS_SHOWN, "data"),
    )


PANEL = Panel(
    name="growth", label="Growth", title="Growth data", tab=ids.TAB_GROWTH,
    layout=lambda options: layout.panel(list(options.filters.segments)),
    status=ids.GROWTH_STATUS,
    outputs=by_property(
        # The KPI cards' parts, one list each in KPIS order.
        children={"kpi_values": ids.kpi_value(ALL), "kpi_changes": ids.kpi_change(ALL),
                  "kpi_periods": ids.kpi_period(ALL)},
        className={"kpi_tones": ids.kpi_change(ALL)},
        figure={"combined": ids.GROWTH_COMBINED_CHART},
        # One figure per KPI metric, in KPIS order; the charts draw them while on screen.
        data={"metric_charts": ids.GROWTH_METRIC_FIGURES},
        style={"metric_charts_shown": ids.GROWTH_METRIC_CHARTS},
        rowData={"grid_rows": ids.GROWTH_GRID},
        csvExportParams={"export": ids.GROWTH_GRID},
    ),
    controls=by_property(value={"smooth": ids.GROWTH_SMOOTH, "compare": ids.GROWTH_COMPARE,
                                "breakdown": ids.GROWTH_BREAKDOWN}),
    parse=parse, compute=compute, render=render, failure=failure,
    url_fields=(UrlField("smooth", "smooth", Kind.FLAG, "7-day average"),
                UrlField("compare", "compare", Kind.FLAG, "comparison with the previous period"),
                UrlField("growth-by", "breakdown", Kind.ONE, "growth breakdown")),
    exports={ids.GROWTH_EXPORT: ids.GROWTH_GRID},
    extra_callbacks=register_drawing_when_shown,
)
