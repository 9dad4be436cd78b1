"""Pure figure builders: a table in, a new Plotly figure out.

Every figure uses the plotly_white template, set once as the default: naming it in each figure's
layout made Plotly copy and validate the whole template per figure, a quarter of the CPU a
panel spent drawing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from queries.growth import METRICS, Metric

pio.templates.default = "plotly_white"

COLOURS = {
    "new_users": "#3b82f6",
    "retained_users": "#10b981",
    "resurrected_users": "#8b5cf6",
    "churned_users": "#ef4444",
    "active_users": "#334155",
    "quick_ratio": "#f59e0b",
    "retention_rate": "#0d9488",
}
INCOMPLETE_NOTE = "in progress"


def base_layout(height: int, title: str | None = None) -> dict:
    return {
        "height": height,
        "margin": {"l": 48, "r": 48, "t": 40 if title else 16, "b": 40},
        "title": {"text": title, "x": 0, "font": {"size": 14}} if title else None,
        "legend": {"orientation": "h", "y": -0.12, "x": 0},
        "hovermode": "x unified",
        "uirevision": "keep",
    }


def empty_figure(message: str, height: int = 320) -> go.Figure:
    figure = go.Figure(layout=base_layout(height))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#64748b"})
    return figure


def incomplete_periods(table: pd.DataFrame) -> list[dt.date]:
    return list(table.loc[~table["is_complete"], "period_start"])


def mark_incomplete(figure: go.Figure, table: pd.DataFrame, grain: str) -> None:
    """Shade the period that is still in progress so nobody reads its dip as a decline."""
    # Bars are centred on the period's first day, so the shading is too.
    half = pd.Timedelta(days={"day": 0.5, "week": 3.5, "month": 15}[grain])
    for start in incomplete_periods(table):
        centre = pd.Timestamp(start)
        figure.add_vrect(
            x0=centre - half, x1=centre + half, fillcolor="#94a3b8", opacity=0.15, line_width=0,
            annotation_text=INCOMPLETE_NOTE, annotation_position="top left",
        )


def bar_opacity(table: pd.DataFrame) -> list[float]:
    return [1.0 if complete else 0.45 for complete in table["is_complete"]]


def ratio_axis_top(table: pd.DataFrame) -> float:
    """Early periods have tiny churn and huge quick ratios: let the typical range fill the axis."""
    ratios = table["quick_ratio"].dropna()
    typical = float(ratios.quantile(0.9)) if len(ratios) else 1.0
    return max(1.05, min(typical * 1.3, float(ratios.max()) * 1.05 if len(ratios) else 1.05))


def combined_figure(table: pd.DataFrame, grain: str) -> go.Figure:
    figure = go.Figure(layout=base_layout(440, "Growth accounting"))
    x = pd.to_datetime(table["period_start"])
    opacity = bar_opacity(table)
    bars = [
        ("new_users", "New", 1, True),
        ("resurrected_users", "Resurrected", 1, True),
        ("retained_users", "Retained", 1, "legendonly"),
        ("churned_users", "Churned", -1, True),
    ]
    for column, label, sign, visible in bars:
        figure.add_bar(
            x=x, y=sign * table[column], name=label, visible=visible,
            marker={"color": COLOURS[column], "opacity": opacity},
            customdata=table[column], hovertemplate="%{customdata:,}",
        )
    for column, label in (("quick_ratio", "Quick ratio"), ("retention_rate", "Retention rate")):
        figure.add_scatter(
            x=x, y=table[column], name=label, yaxis="y2", mode="lines+markers",
            line={"color": COLOURS[column], "width": 2}, marker={"size": 4},
            hovertemplate="%{y:.2f}" if column == "quick_ratio" else "%{y:.1%}",
        )
    figure.update_layout(
        barmode="relative",
        yaxis={"title": "users"},
        yaxis2={"title": "ratio", "overlaying": "y", "side": "right", "showgrid": False,
                "tickformat": ".2f",
                "range": [0, ratio_axis_top(table)]},
    )
    mark_incomplete(figure, table, grain)
    return figure


def metric_figure(table: pd.DataFrame, metric: Metric, grain: str) -> go.Figure:
    figure = go.Figure(layout=base_layout(240, metric.label))
    x = pd.to_datetime(table["period_start"])
    colour = COLOURS[metric.column]
    if metric.is_ratio:
        figure.add_scatter(
            x=x, y=table[metric.column], mode="lines+markers", name=metric.label,
            line={"color": colour}, marker={"size": 4},
            hovertemplate="%{y:.1%}" if metric.column == "retention_rate" else "%{y:.2f}",
        )
    else:
        figure.add_bar(
            x=x, y=table[metric.column], name=metric.label,
            marker={"color": colour, "opacity": bar_opacity(table)},
            hovertemplate="%{y:,}",
        )
    if metric.column == "retention_rate":
        figure.update_yaxes(tickformat=".0%")
    if metric.column == "quick_ratio":
        figure.update_yaxes(range=[0, ratio_axis_top(table)])
    figure.update_layout(showlegend=False)
    mark_incomplete(figure, table, grain)
    return figure


def metric_figures(table: pd.DataFrame, grain: str) -> list[tuple[Metric, go.Figure]]:
    return [(metric, metric_figure(table, metric, grain)) for metric in METRICS]
