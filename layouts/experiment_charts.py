"""Experiment figures: relative lift with intervals, and cumulative conversion per variant."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from layouts.charts import base_layout, empty_figure


def lift_figure(table: pd.DataFrame) -> go.Figure:
    treatments = table[~table["is_control"] & table["lift_rel"].notna()]
    if treatments.empty:
        return empty_figure("No treatment with a defined lift.", height=300)
    figure = go.Figure(layout=base_layout(120 + 60 * len(treatments),
                                          "Relative lift vs control, 95% interval"))
    figure.add_scatter(
        x=treatments["lift_rel"].tolist(), y=treatments["variant"].tolist(), mode="markers",
        marker={"size": 12, "color": "#1e3a8a"},
        error_x={
            "type": "data", "symmetric": False,
            "array": (treatments["lift_rel_ci_high"] - treatments["lift_rel"]).tolist(),
            "arrayminus": (treatments["lift_rel"] - treatments["lift_rel_ci_low"]).tolist(),
            "thickness": 3, "width": 8,
        },
        hovertemplate="%{y}: %{x:+.1%}<extra></extra>",
    )
    figure.add_vline(x=0, line_dash="dash", line_color="#94a3b8")
    figure.update_xaxes(tickformat="+.0%", zeroline=False)
    figure.update_layout(showlegend=False, hovermode="closest")
    return figure


def cumulative_figure(daily: pd.DataFrame, control: str) -> go.Figure:
    if daily.empty:
        return empty_figure("No assignment dates to plot.", height=320)
    figure = go.Figure(layout=base_layout(340, "Cumulative conversion by variant"))
    for variant, rows in daily.groupby("variant", sort=True):
        figure.add_scatter(
            x=pd.to_datetime(rows["day"]).tolist(), y=rows["conversion_rate"].tolist(),
            name=f"{variant} (control)" if variant == control else str(variant),
            mode="lines", line={"width": 3 if variant == control else 2},
            hovertemplate="%{y:.2%}",
        )
    figure.update_yaxes(tickformat=".1%", rangemode="tozero")
    return figure
