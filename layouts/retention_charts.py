"""Retention figures: the cohort heatmap and the retention curve (pure builders, plain dicts)."""

from __future__ import annotations

import pandas as pd
from dash import html

from layouts.charts import PALETTE, base_layout, figure, plain
from queries.metrics import RETENTION, hover

RETAINED, RATE = RETENTION["retained_users"], RETENTION["retention_rate"]

AVERAGE_LABEL = "Weighted average"
# In Users mode the top row is a mean of users over the cohorts counted, not a sum over a
# number of cohorts that changes from column to column.
MEAN_LABEL = "Mean per cohort"
# The heatmap shows the latest cohorts (the grid holds all) at one height whatever their
# number: a chart whose height changes is drawn twice (dcc.Graph redraws it on resize), and a
# heatmap's cell texts are most of its drawing time.
HEATMAP_COHORTS = 20
HEATMAP_HEIGHT = 26 * (HEATMAP_COHORTS + 1) + 120
HEATMAP_COLOURS = [[0.0, "#f8fafc"], [0.15, "#dbeafe"], [0.4, "#93c5fd"], [0.7, "#3b82f6"],
                   [1.0, "#1e3a8a"]]
# One template for every cell; a cell carries only [retained users, extra line]. The row label
# names the cohort and its size ("cohort · users" on the axis).
HEATMAP_HOVER = (
    f"%{{y}}<br>period %{{x}}: {hover('customdata[0]', RETAINED.unit)} retained"
    f" ({hover('z', RATE.unit)})%{{customdata[1]}}<extra></extra>"
)
IN_PROGRESS_HOVER = "<br>period still in progress"
CURVE_HOVER = f"period %{{x}}: {hover('y', RATE.unit)}"
# The hover shows rates to 0.1% and colours show far less: six decimals are half the bytes.
RATE_DECIMALS = 6


def cohort_label(cohort_start, size: int) -> str:
    return f"{cohort_start:%Y-%m-%d} · {size:,}"


def rate_text(rate: float) -> str:
    """One style in every cell: one decimal ("7.6%", "9.0%", "100.0%" reads "100%")."""
    return "100%" if rate >= 0.9995 else f"{rate:.1%}"


def cell_text(rate: float, users: int, is_complete: bool, show_counts: bool) -> str:
    text = f"{users:,}" if show_counts else rate_text(rate)
    return text if is_complete else text + "*"


def cohort_rows(shown: pd.DataFrame, width: int, show_counts: bool) -> list[tuple]:
    """Label, colour, text and hover data rows, one per cohort, in the table's order."""
    rows = {}
    columns = ("cohort_start", "cohort_size", "period_index", "retention_rate", "retained_users",
               "is_complete")
    for cohort, size, k, rate, users, complete in zip(
        *(shown[column].tolist() for column in columns), strict=True
    ):
        row = rows.get(cohort)
        if row is None:
            row = rows[cohort] = (cohort_label(cohort, size), [None] * width, [""] * width,
                                  [None] * width)
        row[1][k] = round(rate, RATE_DECIMALS)
        row[2][k] = cell_text(rate, users, complete, show_counts)
        row[3][k] = [users, "" if complete else IN_PROGRESS_HOVER]
    return list(rows.values())


def average_row(average: pd.DataFrame, indexes: list[int], show_counts: bool):
    by_index = {row.period_index: row for row in average.itertuples(index=False)}
    z, text, hover = [], [], []
    for k in indexes:
        row = by_index.get(k)
        if row is None:
            z.append(None)
            text.append("")
            hover.append(None)
            continue
        cohorts, retained = int(row.cohorts), int(row.retained_users)
        z.append(round(float(row.retention_rate), RATE_DECIMALS))
        if show_counts:
            mean = retained / cohorts
            text.append(f"{mean:,.0f}" if mean >= 100 else f"{mean:,.1f}")
            hover.append([retained, f"<br>mean {mean:,.1f} users over {cohorts} complete"
                                    f" cohorts ({retained:,} in all)"])
        else:
            text.append(rate_text(row.retention_rate))
            hover.append([retained, f"<br>of {int(row.eligible_users):,} users"
                                    f" in {cohorts} complete cohorts"])
    return MEAN_LABEL if show_counts else AVERAGE_LABEL, z, text, hover


def colour_top(z_rows: list[list]) -> float:
    """The colour scale's top: the highest rate after period 0. Period 0 is 100% by definition,
    and scaling on it would leave every later cell near white."""
    later = [value for row in z_rows for value in row[1:] if value is not None]
    return max(0.01, max(later, default=1.0))


HEATMAP_MARGIN = {"l": 8, "r": 100, "t": 90, "b": 40, "autoexpand": False}
# A column's least width: on a phone the heatmap scrolls inside its card instead of squeezing.
HEATMAP_COLUMN_PX = 36


def heatmap_width(columns: int) -> dict:
    """The plot's least width, for the scrolling box around it (layouts/retention.py)."""
    return {"minWidth": f"{columns * HEATMAP_COLUMN_PX + HEATMAP_MARGIN['r']}px"}


def heatmap_labels(labels: list[str]) -> list:
    """The cohort labels beside the heatmap, in HTML: they stay put while it scrolls sideways.
    Spaced as Plotly spaces the rows (equal rows between the top and bottom margins)."""
    return [html.Div(label, className="heatmap-label", title=label) for label in labels]


def heatmap_figure(
    table: pd.DataFrame, average: pd.DataFrame, show_counts: bool, max_periods: int
) -> tuple[dict, list[str]]:
    """Cohorts down, periods since across, colour = retention rate (0 to the highest rate after
    period 0), an average row on top; the text shows rates or users, with * on cells whose
    period is still in progress. Also the row labels, drawn beside it (heatmap_labels)."""
    shown = table[table["period_index"] <= max_periods]
    indexes = list(range(int(shown["period_index"].max()) + 1))
    rows = [average_row(average, indexes, show_counts),
            *cohort_rows(shown, len(indexes), show_counts)]
    labels, z, text, hover = (list(column) for column in zip(*rows, strict=True))
    top = colour_top(z)
    trace = {
        "type": "heatmap", "z": z, "x": indexes, "y": labels, "text": text,
        "texttemplate": "%{text}", "customdata": hover, "hovertemplate": HEATMAP_HOVER,
        "hoverongaps": False, "zmin": 0, "zmax": top, "colorscale": HEATMAP_COLOURS,
        "xgap": 1, "ygap": 1,
        "colorbar": {"tickformat": RATE.unit.tick, "title": {"text": "retained"}},
    }
    layout = base_layout(HEATMAP_HEIGHT, "Retention by cohort") | {
        # Fixed margins: left to grow on their own, they would make Plotly draw the heatmap a
        # second time. The cohort labels are HTML beside the plot (heatmap_labels).
        "margin": HEATMAP_MARGIN,
        "hovermode": "closest",
        "annotations": [{
            "text": f"* period still in progress · colours up to {top:.0%}, the highest rate"
                    " after period 0", "xref": "paper", "yref": "paper", "x": 1,
            "y": 0, "yshift": -24, "showarrow": False, "font": {"size": 11, "color": "#64748b"},
            "xanchor": "right",
        }],
        "yaxis": {"autorange": "reversed", "type": "category", "showticklabels": False},
        "xaxis": {"title": {"text": "periods since first activity"},
                  "dtick": 1 if len(indexes) <= 40 else 5, "side": "top"},
    }
    return figure([trace], layout), labels


def curve_figure(
    table: pd.DataFrame, average: pd.DataFrame, overlay: list[str], max_periods: int
) -> dict:
    average = average[average["period_index"] <= max_periods]
    colours = dict(zip(overlay or [], PALETTE * 2, strict=False))
    data = [{
        "type": "scatter", "x": plain(average["period_index"]),
        "y": plain(average["retention_rate"]), "name": AVERAGE_LABEL, "mode": "lines+markers",
        "line": {"color": "#1e3a8a", "width": 3}, "hovertemplate": CURVE_HOVER,
    }]
    for cohort in overlay or []:
        rows = table[(table["cohort_start"].astype(str) == cohort)
                     & (table["period_index"] <= max_periods)]
        data.append({
            "type": "scatter", "x": plain(rows["period_index"]), "y": plain(rows["retention_rate"]),
            "name": cohort, "mode": "lines+markers",
            "line": {"width": 1.5, "dash": "dot", "color": colours[cohort]},
            "hovertemplate": CURVE_HOVER,
        })
    layout = base_layout(360, "Retention curve") | {
        "yaxis": {"tickformat": RATE.unit.tick, "range": [0, 1.02], "title": {"text": "retained"}},
        "xaxis": {"title": {"text": "periods since first activity"}},
        "hovermode": "x unified",
    }
    return figure(data, layout)


def segment_curves_figure(averages: dict, max_periods: int, column: str,
                          colours: dict[str, str]) -> dict:
    """A breakdown's retention curves: each segment value's weighted average, its cohorts
    and statuses computed within the segment."""
    data = []
    for value, average in averages.items():
        shown = average[average["period_index"] <= max_periods]
        data.append({
            "type": "scatter", "x": plain(shown["period_index"]),
            "y": plain(shown["retention_rate"]), "name": str(value), "mode": "lines+markers",
            "line": {"color": colours.get(str(value), "#cbd5e1"), "width": 2},
            "hovertemplate": f"{value}: " + CURVE_HOVER,
        })
    layout = base_layout(360, f"Retention curve by {column}") | {
        "yaxis": {"tickformat": RATE.unit.tick, "range": [0, 1.02], "title": {"text": "retained"}},
        "xaxis": {"title": {"text": "periods since first activity"}},
        "hovermode": "x unified",
    }
    return figure(data, layout)
