"""Growth view: one query per change of the filter bar, shaped into cards, charts and a grid."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Output, no_update

from callbacks.buttons import export_grid_on_click
from callbacks.guard import guarded
from callbacks.view_state import drawn_on_request, filter_bar_inputs, growth_query
from layouts import charts, ids
from layouts.components import empty_state, kpi_card
from layouts.growth import metric_chart_cards
from queries.errors import ParameterError
from queries.growth import growth_table, latest_complete_kpis
from queries.periods import Grain

PERIOD_NOUN = {Grain.DAY: "Day", Grain.WEEK: "Week of", Grain.MONTH: "Month of"}


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


def render(table, query):
    grain = query.grain.value
    grid_rows = table.assign(period_start=table["period_start"].astype(str))
    grid_rows = grid_rows.astype(object).where(grid_rows.notna(), None).to_dict("records")
    kpis = latest_complete_kpis(table)
    cards = [kpi_card(k, period_label(query.grain, k.period_start)) for k in kpis]
    if not kpis:
        cards = [dbc.Col(empty_state("No complete period in this range yet."))]
    return (
        incomplete_note(table, query.grain),
        cards,
        charts.combined_figure(table, grain),
        metric_chart_cards(charts.metric_figures(table, grain)),
        grid_rows,
        {"fileName": f"growth_{grain}.csv",
         "processCellCallback": {"function": "neutraliseFormula(params)"}},
    )


def render_growth(backend, query):
    table = growth_table(backend, query)
    if table.empty or (not table["active_users"].any() and not table["churned_users"].any()):
        message = "No activity in this date range and segment. Widen the range or filters."
        return failure(empty_state(message), message)
    return render(table, query)


def failure(status, message: str):
    empty = charts.empty_figure(message)
    return status, [], empty, [], [], no_update


def register(app, backend, config) -> None:
    @app.callback(
        Output(ids.GROWTH_STATUS, "children"),
        Output(ids.GROWTH_KPIS, "children"),
        Output(ids.GROWTH_COMBINED_CHART, "figure"),
        Output(ids.GROWTH_METRIC_CHARTS, "children"),
        Output(ids.GROWTH_GRID, "rowData"),
        Output(ids.GROWTH_GRID, "csvExportParams"),
        *drawn_on_request(app, ids.GROWTH_REQUEST, filter_bar_inputs()),
        prevent_initial_call=True,
    )
    def update_growth(_request, grain, start, end, activity, segment_values, segment_ids):
        try:
            query = growth_query(grain, start, end, activity, segment_values, segment_ids)
        except ParameterError:
            return (no_update,) * 6  # the filter bar explains what to fix
        return guarded("Growth data", lambda: render_growth(backend, query), failure)

    export_grid_on_click(app, ids.GROWTH_EXPORT, ids.GROWTH_GRID)
