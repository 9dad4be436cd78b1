"""Pure figure builders: a table in, a Plotly figure out, as a plain dict.

Figures are dicts of lists, strings and numbers, the JSON that Plotly.js reads, not
`go.Figure`s: validating every property, `add_vrect`, `update_layout` and the deep copy in
`to_plotly_json` cost most of a panel's CPU, and each figure carried the whole plotly_white
template (7 KB). Every figure now references one compact template taken from plotly_white once,
at import; tests/test_figures.py runs each builder's output through Plotly's validator instead.
Numbers and dates become Python lists and ISO strings here, so encoding the answer is cheap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import plotly.io as pio
from dash import dcc

from queries.metrics import GROWTH, KPIS, RATIO, Metric, hover

INCOMPLETE_NOTE = "in progress"
# Bars are centred on the period's first day, so the shading of a period is too.
HALF_PERIOD = {"day": dt.timedelta(hours=12), "week": dt.timedelta(days=3.5),
               "month": dt.timedelta(days=15)}
# What these charts use of plotly_white: page and axis styling, and the trace defaults that
# show (white bar outlines, the heatmap colour bar's style).
TEMPLATE_LAYOUT_KEYS = (
    "autotypenumbers", "colorway", "font", "hoverlabel", "paper_bgcolor", "plot_bgcolor",
    "xaxis", "yaxis", "title", "shapedefaults", "annotationdefaults",
)


def compact_template() -> dict:
    white = pio.templates["plotly_white"]
    layout = white.layout.to_plotly_json()
    return {
        "layout": {key: layout[key] for key in TEMPLATE_LAYOUT_KEYS},
        "data": {
            "bar": [{"marker": {"line": white.data.bar[0].marker.line.to_plotly_json()}}],
            "heatmap": [{"colorbar": white.data.heatmap[0].colorbar.to_plotly_json()}],
        },
    }


# Shared by every figure and never changed after import.
TEMPLATE = compact_template()


def iso_dates(values) -> list[str]:
    """Dates (date, datetime, Timestamp or ISO text) as YYYY-MM-DD, which Plotly reads as dates."""
    return [str(value)[:10] for value in values]


def plain(values: pd.Series) -> list:
    """Python numbers, a missing value as None (JSON null: a gap in a line)."""
    if values.dtype.kind in "iub":  # numpy integers and booleans cannot be missing
        return values.tolist()
    return [None if pd.isna(value) else value for value in values.tolist()]


def base_layout(height: int, title: str | None = None) -> dict:
    layout = {
        "template": TEMPLATE,
        "height": height,
        "margin": {"l": 48, "r": 48, "t": 40 if title else 16, "b": 40},
        "legend": {"orientation": "h", "y": -0.12, "x": 0},
        "hovermode": "x unified",
        "uirevision": "keep",
    }
    if title:
        layout["title"] = {"text": title, "x": 0, "font": {"size": 14}}
    return layout


def figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": layout}


def empty_figure(message: str, height: int = 320) -> dict:
    layout = base_layout(height)
    layout |= {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "annotations": [{"text": message, "showarrow": False,
                         "font": {"size": 14, "color": "#64748b"}}],
    }
    return figure([], layout)


def placeholder_figure(height: int) -> dict:
    """A blank chart of the drawn chart's height: the page keeps its shape until it draws.
    Its own uirevision: the first real figure must set every axis (a reversed one, say),
    not keep the blank's as user state."""
    blank = empty_figure("", height)
    blank["layout"]["uirevision"] = "placeholder"
    return blank


def chart(graph_id, height: int, **config) -> dcc.Graph:
    """A chart that first draws a blank of its usual height. dcc.Graph resizes, and so draws
    again, right after its first drawing: on the blank that costs nothing, and the page keeps
    its shape until the data arrives."""
    return dcc.Graph(id=graph_id, figure=placeholder_figure(height),
                     config={"displaylogo": False} | config)


def incomplete_periods(table: pd.DataFrame) -> list[dt.date]:
    return list(table.loc[~table["is_complete"], "period_start"])


def incomplete_shading(
    table: pd.DataFrame, grain: str, axes: tuple[tuple[str, str], ...] = (("x", "y"),)
) -> tuple[list[dict], list[dict]]:
    """Shapes and labels shading the period still in progress, so nobody reads its dip as a
    decline: what `add_vrect` drew, on each (x axis, y axis) pair given."""
    half = HALF_PERIOD[grain]
    shapes, annotations = [], []
    for start in incomplete_periods(table):
        centre = dt.datetime.combine(start, dt.time())
        x0, x1 = (centre - half).isoformat(), (centre + half).isoformat()
        for xref, yref in axes:
            shapes.append({
                "type": "rect", "xref": xref, "yref": f"{yref} domain", "x0": x0, "x1": x1,
                "y0": 0, "y1": 1, "fillcolor": "#94a3b8", "opacity": 0.15, "line": {"width": 0},
            })
            annotations.append({
                "text": INCOMPLETE_NOTE, "showarrow": False, "xref": xref, "x": x0,
                "xanchor": "left", "yref": f"{yref} domain", "y": 1, "yanchor": "top",
            })
    return shapes, annotations


@dataclass(frozen=True)
class PeriodAxis:
    """What the charts of one table of periods share: dates, bar opacities and the shading."""

    x: list[str]
    opacity: list[float]
    shapes: list[dict]
    annotations: list[dict]

    @classmethod
    def of(cls, table: pd.DataFrame, grain: str, axes=(("x", "y"),)) -> PeriodAxis:
        shapes, annotations = incomplete_shading(table, grain, axes)
        return cls(iso_dates(table["period_start"]), bar_opacity(table), shapes, annotations)

    def shade(self, layout: dict) -> dict:
        if self.shapes:
            layout |= {"shapes": self.shapes, "annotations": self.annotations}
        return layout


def bar_opacity(table: pd.DataFrame) -> list[float]:
    return [1 if complete else 0.45 for complete in table["is_complete"]]


def ratio_axis_top(values: pd.Series) -> float:
    """Early periods have tiny churn and huge quick ratios: let the typical range fill the axis."""
    ratios = values.dropna()
    typical = float(ratios.quantile(0.9)) if len(ratios) else 1.0
    return max(1.05, min(typical * 1.3, float(ratios.max()) * 1.05 if len(ratios) else 1.05))


def combined_figure(table: pd.DataFrame, grain: str) -> dict:
    periods = PeriodAxis.of(table, grain)
    x, opacity = periods.x, periods.opacity
    bars = [
        (GROWTH["new_users"], True),
        (GROWTH["resurrected_users"], True),
        (GROWTH["retained_users"], "legendonly"),
    ]
    data = [
        {"type": "bar", "x": x, "y": plain(table[metric.column]), "name": metric.label,
         "visible": visible, "marker": {"color": metric.colour, "opacity": opacity},
         "hovertemplate": hover("y", metric.unit)}
        for metric, visible in bars
    ]
    churned_metric = GROWTH["churned_users"]
    churned = plain(table[churned_metric.column])
    # Churn is drawn below zero; the hover shows the count.
    data.append({
        "type": "bar", "x": x, "y": [None if value is None else -value for value in churned],
        "name": churned_metric.label, "visible": True,
        "marker": {"color": churned_metric.colour, "opacity": opacity},
        "customdata": churned, "hovertemplate": hover("customdata", churned_metric.unit),
    })
    quick_ratio = GROWTH["quick_ratio"]
    for metric in (quick_ratio, GROWTH["retention_rate"]):
        data.append({
            "type": "scatter", "x": x, "y": plain(table[metric.column]), "name": metric.label,
            "yaxis": "y2", "mode": "lines+markers", "line": {"color": metric.colour, "width": 2},
            "marker": {"size": 4}, "hovertemplate": hover("y", metric.unit),
        })
    layout = base_layout(440, "Growth accounting") | {
        "barmode": "relative",
        "yaxis": {"title": {"text": "users"}},
        # Both lines share this axis; it is scaled to the quick ratio and ticks like it.
        "yaxis2": {"title": {"text": "ratio"}, "overlaying": "y", "side": "right",
                   "showgrid": False, "tickformat": quick_ratio.unit.d3,
                   "range": [0, ratio_axis_top(table[quick_ratio.column])]},
    }
    return figure(data, periods.shade(layout))


def metric_figure(table: pd.DataFrame, metric: Metric, periods: PeriodAxis) -> dict:
    y = plain(table[metric.column])
    if metric.is_ratio:
        trace = {
            "type": "scatter", "x": periods.x, "y": y, "mode": "lines+markers",
            "name": metric.label, "line": {"color": metric.colour}, "marker": {"size": 4},
            "hovertemplate": hover("y", metric.unit),
        }
    else:
        trace = {
            "type": "bar", "x": periods.x, "y": y, "name": metric.label,
            "marker": {"color": metric.colour, "opacity": periods.opacity},
            "hovertemplate": hover("y", metric.unit),
        }
    layout = base_layout(240, metric.label) | {"showlegend": False}
    if metric.unit.tick:
        layout["yaxis"] = {"tickformat": metric.unit.tick}
    if metric.unit is RATIO:
        layout["yaxis"] = {"range": [0, ratio_axis_top(table[metric.column])]}
    return figure([trace], periods.shade(layout))


def metric_figures(table: pd.DataFrame, grain: str) -> list[tuple[Metric, dict]]:
    periods = PeriodAxis.of(table, grain)
    return [(metric, metric_figure(table, metric, periods)) for metric in KPIS]
