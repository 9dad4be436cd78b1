"""Engagement on the growth tab: DAU/WAU/MAU ratios and stickiness for the filter bar's view.
Stickiness is per week or month: at day grain it is shown per week."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from callbacks.panel import Panel, by_property, draw_when_shown, notice
from layouts import engagement as layout
from layouts import ids
from layouts.charts import empty_figure
from queries.bounds import data_bounds
from queries.engagement import (
    EngagementQuery,
    StickinessQuery,
    engagement_table,
    stickiness_table,
)
from queries.periods import Grain


@dataclass(frozen=True)
class EngagementRequest:
    stickiness: StickinessQuery
    engagement: EngagementQuery
    day_grain: bool  # the page is at day grain: stickiness falls back to weeks


@dataclass(frozen=True)
class EngagementResult:
    stickiness: pd.DataFrame
    engagement: pd.DataFrame
    data_start: object = None  # the data's first day


def parse(view, _controls, _context) -> EngagementRequest:
    grain = Grain.WEEK if view.grain is Grain.DAY else view.grain
    return EngagementRequest(StickinessQuery(grain, view.start, view.end, view.segment),
                             EngagementQuery(view.start, view.end, view.segment),
                             view.grain is Grain.DAY)


def compute(context, request: EngagementRequest) -> EngagementResult:
    return EngagementResult(stickiness_table(context.backend, request.stickiness),
                            engagement_table(context.backend, request.engagement),
                            data_bounds(context.backend).first_day)


def render(result: EngagementResult, request: EngagementRequest) -> dict:
    grain = request.stickiness.grain.value
    table = result.stickiness
    return {
        "status": notice("A day has one day: stickiness is shown per week.")
        if request.day_grain else None,
        # The charts and the table sit below the fold: drawn while on screen.
        "figures": [layout.ratios_figure(result.engagement, result.data_start),
                    layout.stickiness_figure(table, grain),
                    table.astype(object).where(table.notna(), None).to_dict("records")],
    }


def failure(status, message: str) -> dict:
    figure = empty_figure(message)
    return {"status": status, "figures": [figure, figure, []]}


PANEL = Panel(
    name="engagement", label="Engagement", title="Engagement", tab=ids.TAB_GROWTH,
    layout=lambda _options: layout.section(),
    status=ids.ENGAGEMENT_STATUS,
    outputs=by_property(
        # Below the fold: the charts and the table are drawn while on screen.
        data={"figures": ids.ENGAGEMENT_FIGURES},
    ),
    parse=parse, compute=compute, render=render, failure=failure,
    shown_store=ids.ENGAGEMENT_SHOWN,
    exports={ids.STICKINESS_EXPORT: ids.STICKINESS_GRID},
    extra_callbacks=draw_when_shown(
        ids.ENGAGEMENT_FIGURES, ids.ENGAGEMENT_SHOWN,
        [(ids.ENGAGEMENT_RATIOS_CHART, "figure"), (ids.STICKINESS_CHART, "figure"),
         (ids.STICKINESS_GRID, "rowData")]),
)
