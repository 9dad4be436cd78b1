"""Retention figures: the cohort heatmap and the retention curve (pure builders)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from layouts.charts import base_layout

AVERAGE_LABEL = "Weighted average"
HEATMAP_COLOURS = [[0.0, "#f8fafc"], [0.15, "#dbeafe"], [0.4, "#93c5fd"], [0.7, "#3b82f6"],
                   [1.0, "#1e3a8a"]]


def cohort_label(cohort_start, size: int) -> str:
    return f"{cohort_start:%Y-%m-%d} · {size:,}"


def cell_text(rate: float, users: int, is_complete: bool, show_counts: bool) -> str:
    text = f"{users:,}" if show_counts else f"{rate:.0%}" if rate >= 0.095 else f"{rate:.1%}"
    return text if is_complete else text + "*"


def cohort_rows(shown: pd.DataFrame, indexes: list[int], show_counts: bool):
    """Label, colour, text and hover rows, one per cohort."""
    cells = {(row.cohort_start, row.period_index): row for row in shown.itertuples(index=False)}
    cohorts = shown.drop_duplicates("cohort_start")[["cohort_start", "cohort_size"]]
    for cohort, size in cohorts.itertuples(index=False):
        row_cells = [cells.get((cohort, k)) for k in indexes]
        yield (
            cohort_label(cohort, size),
            [None if cell is None else cell.retention_rate for cell in row_cells],
            ["" if cell is None else cell_text(
                cell.retention_rate, cell.retained_users, cell.is_complete, show_counts)
             for cell in row_cells],
            ["" if cell is None else cell_hover(cohort, size, cell) for cell in row_cells],
        )


def cell_hover(cohort, size: int, cell) -> str:
    text = (
        f"cohort {cohort:%Y-%m-%d} ({size:,} users)<br>period {cell.period_index}: "
        f"{cell.retained_users:,} retained ({cell.retention_rate:.1%})"
    )
    return text if cell.is_complete else text + "<br>period still in progress"


def average_row(average: pd.DataFrame, indexes: list[int], show_counts: bool):
    by_index = average.set_index("period_index")
    z, text, hover = [], [], []
    for k in indexes:
        if k not in by_index.index:
            z.append(None)
            text.append("")
            hover.append("")
            continue
        row = by_index.loc[k]
        z.append(row["retention_rate"])
        text.append(
            f"{int(row['retained_users']):,}" if show_counts else f"{row['retention_rate']:.0%}"
        )
        hover.append(
            f"weighted average, period {k}: {row['retention_rate']:.1%} of "
            f"{int(row['eligible_users']):,} users in {int(row['cohorts'])} complete cohorts"
        )
    return AVERAGE_LABEL, z, text, hover


def heatmap_figure(
    table: pd.DataFrame, average: pd.DataFrame, show_counts: bool, max_periods: int
) -> go.Figure:
    """Cohorts down, periods since across, colour = retention rate (0 to 100%), an average row on
    top; the text shows rates or users, with * on cells whose period is still in progress."""
    shown = table[table["period_index"] <= max_periods]
    indexes = list(range(int(shown["period_index"].max()) + 1))
    rows = [average_row(average, indexes, show_counts), *cohort_rows(shown, indexes, show_counts)]
    labels, z, text, hover = (list(column) for column in zip(*rows, strict=True))
    figure = go.Figure(
        go.Heatmap(
            z=z, x=indexes, y=labels, text=text, texttemplate="%{text}", customdata=hover,
            hovertemplate="%{customdata}<extra></extra>", zmin=0, zmax=1,
            colorscale=HEATMAP_COLOURS, xgap=1, ygap=1,
            colorbar={"tickformat": ".0%", "title": {"text": "retained"}},
        ),
        layout=base_layout(max(320, 26 * len(labels) + 120), "Retention by cohort"),
    )
    figure.update_layout(hovermode="closest")
    figure.add_annotation(
        text="* period still in progress", xref="paper", yref="paper", x=1, y=0, yshift=-24,
        showarrow=False, font={"size": 11, "color": "#64748b"}, xanchor="right",
    )
    figure.update_yaxes(autorange="reversed", type="category", title="cohort · users")
    figure.update_xaxes(
        title="periods since first activity", dtick=1 if len(indexes) <= 40 else 5, side="top"
    )
    return figure


def curve_figure(
    table: pd.DataFrame, average: pd.DataFrame, overlay: list[str], max_periods: int
) -> go.Figure:
    figure = go.Figure(layout=base_layout(360, "Retention curve"))
    average = average[average["period_index"] <= max_periods]
    figure.add_scatter(
        x=average["period_index"], y=average["retention_rate"], name=AVERAGE_LABEL,
        mode="lines+markers", line={"color": "#1e3a8a", "width": 3},
        hovertemplate="period %{x}: %{y:.1%}",
    )
    for cohort in overlay or []:
        rows = table[(table["cohort_start"].astype(str) == cohort)
                     & (table["period_index"] <= max_periods)]
        figure.add_scatter(
            x=rows["period_index"], y=rows["retention_rate"], name=cohort, mode="lines+markers",
            line={"width": 1.5, "dash": "dot"}, hovertemplate="period %{x}: %{y:.1%}",
        )
    figure.update_yaxes(tickformat=".0%", range=[0, 1.02], title="retained")
    figure.update_xaxes(title="periods since first activity")
    figure.update_layout(hovermode="x unified")
    return figure
