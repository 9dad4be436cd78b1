"""Small reusable components: KPI cards, alerts, grids."""

from __future__ import annotations

from dataclasses import dataclass

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from queries.growth import KpiValue
from queries.metrics import Metric, Unit, format_change, format_value


def grid_number(d3_format: str, suffix: str = "", money: bool = False, scale: float = 1) -> dict:
    """An AG Grid valueFormatter: the d3 format, blank for empty cells. Column definitions are
    built at import, before the app reads its currency: the page says it (data-currency)."""
    head = "currencyPrefix() + " if money else ""
    tail = f" + '{suffix}'" if suffix else ""
    value = f"params.value * {scale:g}" if scale != 1 else "params.value"
    formatted = f"{head}d3.format('{d3_format}')({value}){tail}"
    return {"function": f"params.value == null ? '' : {formatted}"}


def unit_formatter(unit: Unit) -> dict:
    """Values as the cards write them: durations in words (assets/dashAgGridFunctions.js)."""
    if unit.is_duration:
        return {"function": "params.value == null ? '' : formatDuration(params.value)"}
    return grid_number(unit.d3, unit.suffix, unit.is_money, unit.scale)


def metric_column(metric: Metric, **options) -> dict:
    """A grid column of a metric: its label as the header, formatted as its unit."""
    return {"field": metric.column, "headerName": metric.label,
            "valueFormatter": unit_formatter(metric.unit), **options}


def label_target(component) -> dict:
    """A label's `html_for`: the control it names, for screen readers."""
    component_id = getattr(component, "id", None)
    return {"html_for": component_id} if isinstance(component_id, str) else {}


def shown(value: float | None, unit: Unit) -> str:
    """A card's value; a dash when there is none."""
    return "–" if value is None else format_value(value, unit)


@dataclass(frozen=True)
class KpiTexts:
    """What a KPI card shows for one period: its value, the change and its tone, the period."""

    value: str
    change: str
    change_class: str
    period: str


NO_KPI = KpiTexts("–", "", "kpi-change text-muted", "")


def kpi_texts(kpi: KpiValue, period_label: str) -> KpiTexts:
    value, period = shown(kpi.value, kpi.metric.unit), f"{period_label} · vs previous"
    if kpi.change is None:
        return KpiTexts(value, "no comparison", "kpi-change text-muted", period)
    text = format_change(kpi.change, kpi.metric.unit)
    if kpi.change_pct is not None:
        text += f" ({kpi.change_pct:+.1%})"
    improving = (kpi.change > 0) == kpi.metric.higher_is_better
    tone = "text-muted" if kpi.change == 0 else ("text-success" if improving else "text-danger")
    arrow = "▲" if kpi.change > 0 else ("▼" if kpi.change < 0 else "■")
    return KpiTexts(value, f"{arrow} {text}", f"kpi-change {tone}", period)


def info_button(info_id, label: str) -> html.Span:
    """The "i" that shows a metric's definition (a tooltip), named for screen readers."""
    return html.Span("i", id=info_id, className="kpi-info", tabIndex=0, role="button",
                     **{"aria-label": f"What is {label}?"})


def kpi_card(metric: Metric) -> dbc.Col:
    """A card drawn once with the page; each view sets its texts (kpi_texts), which costs the
    browser far less than new cards."""
    info_id = ids.kpi_tooltip_target(metric.column)
    card = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span(metric.label, className="kpi-label"),
                        info_button(info_id, metric.label),
                    ],
                    className="d-flex justify-content-between",
                ),
                html.Div(NO_KPI.value, id=ids.kpi_value(metric.column), className="kpi-value"),
                html.Span(NO_KPI.change, id=ids.kpi_change(metric.column),
                          className=NO_KPI.change_class),
                html.Div(NO_KPI.period, id=ids.kpi_period(metric.column), className="kpi-period"),
                dbc.Tooltip(metric.definition, target=info_id, placement="top"),
            ]
        ),
        id=ids.kpi_card(metric.column),
        className="kpi-card h-100",
    )
    return dbc.Col(card, xs=6, md=4, xl=True, className="mb-3")


def error_card(title: str, detail: str) -> dbc.Alert:
    return dbc.Alert(
        [html.Strong(title), html.Div(detail, className="small mt-1")],
        color="danger",
        className="error-card",
    )


def empty_state(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="light", className="empty-state text-center py-4")


def data_grid(
    grid_id: str, column_defs: list[dict], file_name: str, fit_columns: bool = True
) -> dag.AgGrid:
    """Wide tables (fit_columns=False) scroll sideways instead of squeezing every column."""
    return dag.AgGrid(
        id=grid_id,
        columnDefs=column_defs,
        rowData=[],
        # Headers wrap rather than being cut off on a phone.
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 110,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        columnSize="responsiveSizeToFit" if fit_columns else None,
        # Rows drawn in the same frame as the data arrives, not over the next few: a new
        # view settles at once instead of trickling in.
        dashGridOptions={"animateRows": False, "domLayout": "autoHeight",
                         "pagination": True, "paginationPageSize": 20,
                         "suppressAnimationFrame": True},
        rowClassRules={"incomplete-row": "params.data && params.data.is_complete === false"},
        csvExportParams={
            "fileName": file_name,
            "processCellCallback": {"function": "neutraliseFormula(params)"},
        },
        className="ag-theme-quartz",
    )


def window_card(label: str, current, previous, formatter, definition: str, card_id,
                no_previous: str | None = None) -> dbc.Col:
    """Current value of the window against the previous window: absolute and % change.
    `no_previous` says why there is nothing to compare with (the window before the data)."""
    if no_previous or current is None or previous is None:
        change = html.Span("no comparison", className="kpi-change text-muted")
    else:
        delta = current - previous
        pct = f" ({delta / abs(previous):+.1%})" if previous else ""
        tone = "text-muted" if delta == 0 else ("text-success" if delta > 0 else "text-danger")
        arrow = "▲" if delta > 0 else ("▼" if delta < 0 else "■")
        sign = "+" if delta >= 0 else "-"
        change = html.Span(f"{arrow} {sign}{formatter(abs(delta))}{pct}",
                           className=f"kpi-change {tone}")
    info_id = ids.window_tooltip_target(card_id["metric"])
    body = dbc.CardBody([
        html.Div([html.Span(label, className="kpi-label"),
                  info_button(info_id, label)],
                 className="d-flex justify-content-between"),
        html.Div(formatter(current), className="kpi-value"),
        change,
        html.Div(no_previous or f"previous window: {formatter(previous)}",
                 className="kpi-period"),
        dbc.Tooltip(definition, target=info_id, placement="top"),
    ])
    return dbc.Col(dbc.Card(body, id=card_id, className="kpi-card h-100"), xs=6, md=3,
                   className="mb-3")
