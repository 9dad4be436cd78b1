"""Revenue and funnel figures (pure builders)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from layouts.charts import bar_opacity, base_layout, empty_figure, mark_incomplete

REVENUE_COLOUR = "#0d9488"
ORDERS_COLOUR = "#64748b"
AOV_COLOUR = "#f59e0b"
PREVIOUS_COLOUR = "#94a3b8"


def trend_figure(trend: pd.DataFrame, breakdown: pd.DataFrame | None, grain: str) -> go.Figure:
    """Revenue per period on top (stacked by segment when asked); orders and AOV below."""
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08,
        specs=[[{}], [{"secondary_y": True}]],
    )
    x = pd.to_datetime(trend["period_start"])
    if breakdown is None or breakdown.empty:
        figure.add_bar(x=x, y=trend["revenue"], name="Revenue", row=1, col=1,
                       marker={"color": REVENUE_COLOUR, "opacity": bar_opacity(trend)},
                       hovertemplate="%{y:,.2f}")
    else:
        for value, rows in breakdown.groupby("segment_value", sort=False):
            figure.add_bar(x=pd.to_datetime(rows["period_start"]), y=rows["revenue"],
                           name=str(value), row=1, col=1, hovertemplate="%{y:,.2f}")
    figure.add_bar(x=x, y=trend["orders"], name="Orders", row=2, col=1,
                   marker={"color": ORDERS_COLOUR, "opacity": bar_opacity(trend)},
                   hovertemplate="%{y:,}")
    figure.add_scatter(x=x, y=trend["aov"], name="AOV", mode="lines+markers", row=2, col=1,
                       secondary_y=True, line={"color": AOV_COLOUR}, marker={"size": 4},
                       hovertemplate="%{y:,.2f}")
    figure.update_layout(base_layout(520, "Revenue, orders and average order value"))
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title_text="revenue", row=1, col=1)
    figure.update_yaxes(title_text="orders", row=2, col=1)
    figure.update_yaxes(title_text="AOV", row=2, col=1, secondary_y=True, showgrid=False)
    mark_incomplete(figure, trend, grain)
    return figure


def window_figure(daily: pd.DataFrame, comparison, overlay_previous: bool) -> go.Figure:
    """Daily revenue in the window; the previous window shifted onto the same days."""
    if comparison is None:
        return empty_figure("Pick a date range to compare with the previous one.")
    days = pd.Timestamp(comparison.start) - pd.Timestamp(comparison.previous_start)
    dates = pd.to_datetime(daily["period_start"])
    current = daily[dates >= pd.Timestamp(comparison.start)]
    figure = go.Figure(layout=base_layout(320, "Daily revenue: selected window"))
    figure.add_scatter(x=pd.to_datetime(current["period_start"]), y=current["revenue"],
                       name=f"{comparison.start:%d %b} – {comparison.end:%d %b %Y}",
                       mode="lines+markers", line={"color": REVENUE_COLOUR, "width": 2},
                       hovertemplate="%{y:,.2f}")
    if overlay_previous:
        previous = daily[dates < pd.Timestamp(comparison.start)]
        figure.add_scatter(
            x=pd.to_datetime(previous["period_start"]) + days, y=previous["revenue"],
            customdata=previous["period_start"].astype(str),
            name=f"previous: {comparison.previous_start:%d %b} – {comparison.previous_end:%d %b}",
            mode="lines", line={"color": PREVIOUS_COLOUR, "dash": "dash"},
            hovertemplate="%{y:,.2f} on %{customdata}",
        )
        figure.update_layout(title={"text": "Daily revenue: selected window vs previous window"})
    return figure


def funnel_figure(steps: pd.DataFrame) -> go.Figure:
    figure = go.Figure(layout=base_layout(360, "Users reaching each step"))
    figure.add_trace(go.Funnel(
        y=[f"{row.step}. {row.event_type}" for row in steps.itertuples()],
        x=steps["users"].tolist(), textinfo="value+percent initial+percent previous",
        marker={"color": REVENUE_COLOUR},
    ))
    figure.update_layout(hovermode="closest")
    return figure


def funnel_breakdown_figure(breakdown: pd.DataFrame) -> go.Figure:
    if breakdown.empty or breakdown["segment_value"].nunique() < 2:
        return empty_figure("Choose a breakdown to compare segments.", height=360)
    figure = go.Figure(layout=base_layout(360, "Conversion from the first step, by segment"))
    for value, rows in breakdown[breakdown["step"] > 1].groupby("segment_value", sort=False):
        figure.add_bar(
            x=[f"{row.step}. {row.event_type}" for row in rows.itertuples()],
            y=rows["conversion_from_first"], name=str(value), hovertemplate="%{y:.1%}",
        )
    figure.update_layout(barmode="group", hovermode="closest")
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    return figure
