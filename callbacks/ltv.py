"""Revenue cohorts (LTV) on the revenue tab, at the filter bar's grain, range and segment."""

from __future__ import annotations

from callbacks.panel import Panel, by_property, draw_when_shown
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
        "figures": [layout.heatmap_figure(table), layout.curve_figure(table),
                    table.astype(object).where(table.notna(), None).to_dict("records")],
    }


def failure(status, message: str) -> dict:
    figure = empty_figure(message, height=480)
    return {"status": status, "figures": [figure, figure, []]}


PANEL = Panel(
    name="ltv", label="Revenue cohorts", title="Revenue cohorts", tab=ids.TAB_REVENUE,
    layout=lambda _options: layout.section(),
    status=ids.LTV_STATUS,
    outputs=by_property(
        # Below the fold: the charts and the table are drawn while on screen.
        data={"figures": ids.LTV_FIGURES},
    ),
    parse=parse, compute=compute, render=render, failure=failure,
    shown_store=ids.LTV_SHOWN,
    exports={ids.LTV_EXPORT: ids.LTV_GRID},
    extra_callbacks=draw_when_shown(
        ids.LTV_FIGURES, ids.LTV_SHOWN,
        [(ids.LTV_HEATMAP, "figure"), (ids.LTV_CURVE, "figure"), (ids.LTV_GRID, "rowData")]),
)
