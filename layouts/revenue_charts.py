"""Revenue and funnel figures (pure builders, plain dicts)."""

from __future__ import annotations

import pandas as pd

from layouts.charts import (
    OTHER_COLOUR,
    PeriodAxis,
    base_layout,
    clipped_autorange,
    day_xaxis,
    empty_figure,
    figure,
    iso_dates,
    plain,
    value_colours,
)
from queries.metrics import FUNNEL, REVENUE, hover, lower_first

MAX_MARKED_DAYS = 62

REVENUE_METRIC, ORDERS, AOV = REVENUE["revenue"], REVENUE["orders"], REVENUE["aov"]
REVENUE_COLOUR = REVENUE_METRIC.colour
PREVIOUS_COLOUR = "#94a3b8"
# Three rows sharing the x axis, one per unit and scale: revenue, orders, AOV (a revenue over
# orders would be unreadable on either's axis).
TREND_ROWS = ((REVENUE_METRIC, [0.46, 1.0]), (ORDERS, [0.25, 0.41]), (AOV, [0.0, 0.2]))


def trend_axes(periods: PeriodAxis, rows: dict[str, list]) -> dict:
    axes = {}
    for index, (metric, domain) in enumerate(TREND_ROWS, start=1):
        suffix = "" if index == 1 else str(index)
        last = index == len(TREND_ROWS)
        axes[f"xaxis{suffix}"] = periods.xaxis(anchor=f"y{suffix}", showticklabels=last,
                                               **({} if last else {"matches": "x3"}))
        complete = periods.complete_values(rows[metric.column])
        axes[f"yaxis{suffix}"] = clipped_autorange(
            complete, complete,
            {"anchor": f"x{suffix}", "domain": domain,
             "title": {"text": lower_first(metric.label)},
             **({"tickformat": metric.unit.tick} if metric.unit.tick else {})})
    return axes


def trend_figure(trend: pd.DataFrame, breakdown: pd.DataFrame | None, grain: str,
                 colours: dict[str, str] | None = None) -> dict:
    """Revenue per period on top (stacked by segment when asked), orders below, AOV last."""
    periods = PeriodAxis.of(trend, grain, (("x", "y"), ("x2", "y2"), ("x3", "y3")))
    x = periods.x
    money = hover("y", REVENUE_METRIC.unit)
    if breakdown is None or breakdown.empty:
        data = [{"type": "bar", "x": x, "y": plain(trend["revenue"]),
                 "name": REVENUE_METRIC.label, "marker": periods.bar_marker(REVENUE_COLOUR),
                 "hovertemplate": money}]
    else:
        colours = colours or value_colours(breakdown["segment_value"])
        data = []
        for value, rows in breakdown.groupby("segment_value", sort=False):
            segment = periods.at(iso_dates(rows["period_start"]))
            data.append({"type": "bar", "x": segment.x, "y": plain(rows["revenue"]),
                         "name": str(value), "hovertemplate": money,
                         "marker": segment.bar_marker(colours.get(str(value), OTHER_COLOUR))})
    data.append({"type": "bar", "x": x, "y": plain(trend["orders"]), "name": ORDERS.label,
                 "xaxis": "x2", "yaxis": "y2", "marker": periods.bar_marker(ORDERS.colour),
                 "hovertemplate": hover("y", ORDERS.unit)})
    data += periods.line({
        "type": "scatter", "x": x, "y": plain(trend["aov"]), "name": AOV.label, "xaxis": "x3",
        "yaxis": "y3", "mode": "lines+markers", "line": {"color": AOV.colour},
        "marker": {"size": 4}, "hovertemplate": hover("y", AOV.unit),
    })
    rows = {column: plain(trend[column]) for column in ("revenue", "orders", "aov")}
    layout = base_layout(560, "Revenue, orders and average order value")
    layout |= trend_axes(periods, rows) | {"barmode": "stack"}
    return figure(data, periods.shade(layout))


def window_figure(daily: pd.DataFrame, comparison, overlay_previous: bool) -> dict:
    """Daily revenue in the window; the previous window shifted onto the same days."""
    if comparison is None:
        return empty_figure("Pick a date range to compare with the previous one.")
    starts = pd.to_datetime(daily["period_start"])
    current = daily[starts >= pd.Timestamp(comparison.start)]
    money = hover("y", REVENUE_METRIC.unit)
    data = [{
        "type": "scatter", "x": iso_dates(current["period_start"]),
        "y": plain(current["revenue"]),
        "name": f"{comparison.start:%d %b} – {comparison.end:%d %b %Y}",
        # Past two months of days, markers would only blot the line.
        "mode": "lines+markers" if len(current) <= MAX_MARKED_DAYS else "lines",
        "line": {"color": REVENUE_COLOUR, "width": 2},
        "hovertemplate": money,
    }]
    title, subtitle = "Daily revenue: selected window", None
    if overlay_previous and not comparison.previous_has_data:
        subtitle = f"No data before {comparison.data_start:%-d %b %Y} to compare with"
    elif overlay_previous:
        previous = daily[starts < pd.Timestamp(comparison.start)]
        shift = pd.Timestamp(comparison.start) - pd.Timestamp(comparison.previous_start)
        data.append({
            "type": "scatter", "x": iso_dates(pd.to_datetime(previous["period_start"]) + shift),
            "y": plain(previous["revenue"]), "customdata": iso_dates(previous["period_start"]),
            "name": f"previous: {comparison.previous_start:%d %b} – "
                    f"{comparison.previous_end:%d %b}",
            "mode": "lines", "line": {"color": PREVIOUS_COLOUR, "dash": "dash"},
            "hovertemplate": money + " on %{customdata}",
        })
        title = "Daily revenue: selected window vs previous window"
    layout = base_layout(320, title)
    if subtitle:  # on its own line, so a phone does not cut it off
        layout["title"]["subtitle"] = {"text": subtitle, "font": {"size": 11}}
        layout["margin"]["t"] = 60
    layout["xaxis"] = day_xaxis(comparison.start, comparison.end)
    return figure(data, layout)


def step_labels(rows: pd.DataFrame) -> list[str]:
    return [f"{step}. {event}" for step, event in zip(rows["step"], rows["event_type"],
                                                      strict=True)]


USERS, FROM_FIRST, FROM_PREVIOUS = (FUNNEL[column] for column in (
    "users", "conversion_from_first", "conversion_from_previous"))
# The numbers as the table writes them: "10,083 · 50.4% of first · 50.4% of previous".
FUNNEL_TEXT = (f"{hover('x', USERS.unit)} · {hover('percentInitial', FROM_FIRST.unit)} of first"
               f"<br>{hover('percentPrevious', FROM_PREVIOUS.unit)} of previous")


def funnel_figure(steps: pd.DataFrame) -> dict:
    trace = {
        "type": "funnel", "y": step_labels(steps), "x": plain(steps["users"]),
        "texttemplate": FUNNEL_TEXT, "hovertemplate": f"%{{y}}: {FUNNEL_TEXT}<extra></extra>",
        "marker": {"color": REVENUE_COLOUR},
    }
    layout = base_layout(360, "Users reaching each step") | {"hovermode": "closest"}
    return figure([trace], layout)


def funnel_breakdown_figure(breakdown: pd.DataFrame,
                            colours: dict[str, str] | None = None) -> dict:
    if breakdown.empty or breakdown["segment_value"].nunique() < 2:
        return empty_figure("Choose a breakdown to compare segments.", height=360)
    conversion = FUNNEL["conversion_from_first"]
    colours = colours or value_colours(breakdown["segment_value"])
    data = [
        {"type": "bar", "x": step_labels(rows), "y": plain(rows[conversion.column]),
         "name": str(value), "hovertemplate": hover("y", conversion.unit),
         "marker": {"color": colours.get(str(value), OTHER_COLOUR)}}
        for value, rows in breakdown[breakdown["step"] > 1].groupby("segment_value", sort=False)
    ]
    layout = base_layout(360, f"{conversion.title}, by segment") | {
        "barmode": "group", "hovermode": "closest",
        "yaxis": {"tickformat": conversion.unit.tick, "rangemode": "tozero"},
    }
    return figure(data, layout)
