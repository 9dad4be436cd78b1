"""Retention figures: the cohort heatmap and the retention curve (pure builders, plain dicts)."""

from __future__ import annotations

import pandas as pd

from layouts.charts import base_layout, figure, plain
from queries.metrics import RETENTION, hover

RETAINED, RATE = RETENTION["retained_users"], RETENTION["retention_rate"]

AVERAGE_LABEL = "Weighted average"
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


def cell_text(rate: float, users: int, is_complete: bool, show_counts: bool) -> str:
    text = f"{users:,}" if show_counts else f"{rate:.0%}" if rate >= 0.095 else f"{rate:.1%}"
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
        retained = int(row.retained_users)
        z.append(round(float(row.retention_rate), RATE_DECIMALS))
        text.append(f"{retained:,}" if show_counts else f"{row.retention_rate:.0%}")
        hover.append([retained, f"<br>of {int(row.eligible_users):,} users"
                                f" in {int(row.cohorts)} complete cohorts"])
    return AVERAGE_LABEL, z, text, hover


def heatmap_figure(
    table: pd.DataFrame, average: pd.DataFrame, show_counts: bool, max_periods: int
) -> dict:
    """Cohorts down, periods since across, colour = retention rate (0 to 100%), an average row on
    top; the text shows rates or users, with * on cells whose period is still in progress."""
    shown = table[table["period_index"] <= max_periods]
    indexes = list(range(int(shown["period_index"].max()) + 1))
    rows = [average_row(average, indexes, show_counts),
            *cohort_rows(shown, len(indexes), show_counts)]
    labels, z, text, hover = (list(column) for column in zip(*rows, strict=True))
    trace = {
        "type": "heatmap", "z": z, "x": indexes, "y": labels, "text": text,
        "texttemplate": "%{text}", "customdata": hover, "hovertemplate": HEATMAP_HOVER,
        "hoverongaps": False, "zmin": 0, "zmax": 1, "colorscale": HEATMAP_COLOURS,
        "xgap": 1, "ygap": 1,
        "colorbar": {"tickformat": RATE.unit.tick, "title": {"text": "retained"}},
    }
    layout = base_layout(HEATMAP_HEIGHT, "Retention by cohort") | {
        # Margins that fit the cohort labels, the top axis and the colour bar: left to grow
        # on their own, they would make Plotly draw the heatmap a second time.
        "margin": {"l": 150, "r": 100, "t": 90, "b": 40, "autoexpand": False},
        "hovermode": "closest",
        "annotations": [{
            "text": "* period still in progress", "xref": "paper", "yref": "paper", "x": 1,
            "y": 0, "yshift": -24, "showarrow": False, "font": {"size": 11, "color": "#64748b"},
            "xanchor": "right",
        }],
        "yaxis": {"autorange": "reversed", "type": "category",
                  "title": {"text": "cohort · users"}},
        "xaxis": {"title": {"text": "periods since first activity"},
                  "dtick": 1 if len(indexes) <= 40 else 5, "side": "top"},
    }
    return figure([trace], layout)


def curve_figure(
    table: pd.DataFrame, average: pd.DataFrame, overlay: list[str], max_periods: int
) -> dict:
    average = average[average["period_index"] <= max_periods]
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
            "name": cohort, "mode": "lines+markers", "line": {"width": 1.5, "dash": "dot"},
            "hovertemplate": CURVE_HOVER,
        })
    layout = base_layout(360, "Retention curve") | {
        "yaxis": {"tickformat": RATE.unit.tick, "range": [0, 1.02], "title": {"text": "retained"}},
        "xaxis": {"title": {"text": "periods since first activity"}},
        "hovermode": "x unified",
    }
    return figure(data, layout)
