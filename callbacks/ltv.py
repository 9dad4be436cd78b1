"""Revenue cohorts (LTV) on the revenue tab, at the filter bar's grain, range and segment."""

from __future__ import annotations

from callbacks.panel import Panel, by_property
from layouts import ids
from layouts import ltv as layout
from layouts.charts import empty_figure
from queries.ltv import LtvQuery, ltv_table


def parse(view, _controls, _context) -> LtvQuery:
    return LtvQuery(view.grain, view.start, view.end, view.segment)


def compute(context, query: LtvQuery):
    return ltv_table(context.backend, query)


def render(table, _query: LtvQuery) -> dict:
    share = layout.retention_share(table)
    status = None if share is None else (
        f"Revenue retention at the next period: {share:.1%} of a cohort's first-period revenue"
        " (complete cohorts).")
    return {
        "status": status,
        "heatmap": layout.heatmap_figure(table),
        "curve": layout.curve_figure(table),
        "grid_rows": table.astype(object).where(table.notna(), None).to_dict("records"),
    }


def failure(status, message: str) -> dict:
    figure = empty_figure(message, height=480)
    return {"status": status, "heatmap": figure, "curve": figure, "grid_rows": []}


PANEL = Panel(
    name="ltv", label="Revenue cohorts", title="Revenue cohorts", tab=ids.TAB_REVENUE,
    layout=lambda _options: layout.section(),
    status=ids.LTV_STATUS,
    outputs=by_property(
        figure={"heatmap": ids.LTV_HEATMAP, "curve": ids.LTV_CURVE},
        rowData={"grid_rows": ids.LTV_GRID},
    ),
    parse=parse, compute=compute, render=render, failure=failure,
    exports={ids.LTV_EXPORT: ids.LTV_GRID},
)
