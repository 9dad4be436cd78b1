"""Revenue cohorts (LTV) on the revenue tab: cumulative revenue per member by cohort and period
index as a heatmap, the LTV curve, and the table."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.charts import PALETTE, base_layout, chart, empty_figure, figure, plain
from layouts.components import data_grid, grid_number, unit_formatter
from layouts.growth import drawn_when_shown
from layouts.retention_charts import HEATMAP_COLOURS
from layouts.revenue import grid_card
from queries.metrics import COUNT, MONEY, hover

MAX_COHORTS, MAX_PERIODS = 20, 24
# The curve's point at k averages the cohorts complete at k: with fewer, one cohort's own
# luck would bend it.
MIN_COHORTS = 3
LTV_COLUMNS = [
    {"field": "cohort_start", "headerName": "Cohort", "sort": "desc"},
    {"field": "cohort_size", "headerName": "Cohort size", "valueFormatter": unit_formatter(COUNT)},
    {"field": "period_index", "headerName": "Period"},
    {"field": "revenue", "headerName": "Revenue", "valueFormatter": unit_formatter(MONEY)},
    {"field": "cumulative_revenue_per_user", "headerName": "Cumulative revenue per user",
     "valueFormatter": unit_formatter(MONEY)},
    {"field": "revenue_retention", "headerName": "Revenue retention",
     "valueFormatter": grid_number(".1%")},
    {"field": "is_complete", "headerName": "Complete"},
]


def section() -> html.Div:
    return html.Div([
        html.H2("Revenue cohorts (LTV)", className="h5 mt-2"),
        html.Div(id=ids.LTV_STATUS),
        drawn_when_shown(html.Div([
            dbc.Row([
                dbc.Col(dbc.Card(dbc.CardBody(chart(ids.LTV_HEATMAP, 480))), md=7),
                dbc.Col(dbc.Card(dbc.CardBody(chart(ids.LTV_CURVE, 480))), md=5),
            ], className="g-3 mb-3"),
            grid_card("Revenue cohorts table", data_grid(ids.LTV_GRID, LTV_COLUMNS, "ltv.csv"),
                      ids.LTV_EXPORT),
        ]), ids.LTV_SHOWN),
        dcc.Store(id=ids.LTV_FIGURES),
    ], className="mb-4")


def average_ltv(table: pd.DataFrame) -> pd.DataFrame:
    """Per period index: cumulative revenue over members, summed over the cohorts whose cell
    is complete (an open period would pull the curve down)."""
    complete = table[table["is_complete"]]
    revenue = complete["cumulative_revenue_per_user"] * complete["cohort_size"]
    grouped = complete.assign(total=revenue).groupby("period_index")
    sums = grouped[["total", "cohort_size"]].sum()[grouped.size() >= MIN_COHORTS]
    return (sums["total"] / sums["cohort_size"]).rename("ltv").reset_index()


def heatmap_figure(table: pd.DataFrame) -> dict:
    if table.empty:
        return empty_figure("No cohorts in this date range and segment.", height=480)
    cohorts = sorted(table["cohort_start"].unique())[-MAX_COHORTS:]
    shown = table[table["cohort_start"].isin(cohorts) & (table["period_index"] <= MAX_PERIODS)]
    wide = shown.pivot(index="cohort_start", columns="period_index",
                       values="cumulative_revenue_per_user")
    open_cells = shown.pivot(index="cohort_start", columns="period_index", values="is_complete")
    prefix = MONEY.prefix
    text = [[("" if pd.isna(value) else f"{prefix}{value:,.0f}"
              + ("*" if not open_cells.loc[cohort, index] else ""))
             for index, value in row.items()] for cohort, row in wide.iterrows()]
    trace = {
        "type": "heatmap", "z": wide.to_numpy().tolist(), "x": list(wide.columns),
        "y": [f"{cohort:%Y-%m-%d}" for cohort in wide.index], "text": text,
        "texttemplate": "%{text}", "colorscale": HEATMAP_COLOURS, "hoverongaps": False,
        "xgap": 1, "ygap": 1,
        "hovertemplate": f"cohort %{{y}}, period %{{x}}: {hover('z', MONEY)} per member"
                         "<extra></extra>",
        "colorbar": {"title": {"text": "per member"}},
    }
    layout = base_layout(480, "Cumulative revenue per member, by cohort and periods since"
                              " first activity") | {
        "yaxis": {"autorange": "reversed", "type": "category"},
        "xaxis": {"side": "top", "dtick": 1 if wide.shape[1] <= 30 else 5},
        "hovermode": "closest", "margin": {"l": 96, "r": 24, "t": 64, "b": 40},
        "annotations": [{"text": "* period still in progress", "xref": "paper",
                         "yref": "paper", "x": 1, "y": 0, "yshift": -28, "showarrow": False,
                         "xanchor": "right", "font": {"size": 11, "color": "#64748b"}}],
    }
    return figure([trace], layout)


def curve_figure(table: pd.DataFrame) -> dict:
    """The LTV curve over complete cells, and the latest cohorts' own curves."""
    average = average_ltv(table)
    if average.empty:
        return empty_figure("No complete cohort period yet.", height=480)
    data = [{"type": "scatter", "x": plain(average["period_index"]), "y": plain(average["ltv"]),
             "name": f"All cohorts (where {MIN_COHORTS}+ are complete)",
             "mode": "lines+markers",
             "line": {"color": "#1e3a8a", "width": 3},
             "hovertemplate": hover("y", MONEY) + " per member"}]
    for colour, cohort in zip(PALETTE[1:], sorted(table["cohort_start"].unique())[-4:-1],
                              strict=False):
        rows = table[(table["cohort_start"] == cohort) & table["is_complete"]]
        data.append({"type": "scatter", "x": plain(rows["period_index"]),
                     "y": plain(rows["cumulative_revenue_per_user"]),
                     "name": f"{cohort:%Y-%m-%d}", "mode": "lines",
                     "line": {"color": colour, "width": 1.5, "dash": "dot"},
                     "hovertemplate": hover("y", MONEY)})
    layout = base_layout(480, "LTV curve: cumulative revenue per member") | {
        "yaxis": {"tickprefix": MONEY.prefix, "rangemode": "tozero"},
        "xaxis": {"title": {"text": "periods since first activity"}},
        "hovermode": "x unified",
    }
    return figure(data, layout)


def retention_share(table: pd.DataFrame) -> float | None:
    """Revenue retention at k = 1 over complete cells: the share of a cohort's first-period
    revenue that comes back the next period."""
    cells = table[table["is_complete"]]
    first = cells[cells["period_index"] == 0].set_index("cohort_start")["revenue"]
    second = cells[cells["period_index"] == 1].set_index("cohort_start")["revenue"]
    both = first.index.intersection(second.index)
    return float(second[both].sum() / first[both].sum()) if first[both].sum() else None

