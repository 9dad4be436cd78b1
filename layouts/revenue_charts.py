"""Revenue and funnel figures (pure builders, plain dicts)."""

from __future__ import annotations

import pandas as pd

from layouts.charts import PeriodAxis, base_layout, empty_figure, figure, iso_dates, plain
from queries.metrics import FUNNEL, REVENUE, hover, lower_first

REVENUE_METRIC, ORDERS, AOV = REVENUE["revenue"], REVENUE["orders"], REVENUE["aov"]
REVENUE_COLOUR = REVENUE_METRIC.colour
PREVIOUS_COLOUR = "#94a3b8"
# Two rows sharing the x axis, 62% / 38% of the height with 8% between them; the right 6% is
# kept for the AOV axis of the second row (what make_subplots laid out).
TREND_AXES = {
    "xaxis": {"anchor": "y", "domain": [0.0, 0.94], "matches": "x2", "showticklabels": False},
    "xaxis2": {"anchor": "y2", "domain": [0.0, 0.94]},
    "yaxis": {"anchor": "x", "domain": [0.4296, 1.0],
              "title": {"text": lower_first(REVENUE_METRIC.label)}},
    "yaxis2": {"anchor": "x2", "domain": [0.0, 0.3496],
               "title": {"text": lower_first(ORDERS.label)}},
    "yaxis3": {"anchor": "x2", "overlaying": "y2", "side": "right",
               "title": {"text": lower_first(AOV.label)}, "showgrid": False},
}


def trend_figure(trend: pd.DataFrame, breakdown: pd.DataFrame | None, grain: str) -> dict:
    """Revenue per period on top (stacked by segment when asked); orders and AOV below."""
    periods = PeriodAxis.of(trend, grain, (("x", "y"), ("x2", "y2")))
    x, opacity = periods.x, periods.opacity
    money = hover("y", REVENUE_METRIC.unit)
    if breakdown is None or breakdown.empty:
        data = [{"type": "bar", "x": x, "y": plain(trend["revenue"]),
                 "name": REVENUE_METRIC.label,
                 "marker": {"color": REVENUE_COLOUR, "opacity": opacity}, "hovertemplate": money}]
    else:
        data = [{"type": "bar", "x": iso_dates(rows["period_start"]), "y": plain(rows["revenue"]),
                 "name": str(value), "hovertemplate": money}
                for value, rows in breakdown.groupby("segment_value", sort=False)]
    data.append({"type": "bar", "x": x, "y": plain(trend["orders"]), "name": ORDERS.label,
                 "xaxis": "x2", "yaxis": "y2",
                 "marker": {"color": ORDERS.colour, "opacity": opacity},
                 "hovertemplate": hover("y", ORDERS.unit)})
    data.append({"type": "scatter", "x": x, "y": plain(trend["aov"]), "name": AOV.label,
                 "xaxis": "x2", "yaxis": "y3", "mode": "lines+markers",
                 "line": {"color": AOV.colour}, "marker": {"size": 4},
                 "hovertemplate": hover("y", AOV.unit)})
    layout = base_layout(520, "Revenue, orders and average order value") | TREND_AXES
    layout["barmode"] = "stack"
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
        "mode": "lines+markers", "line": {"color": REVENUE_COLOUR, "width": 2},
        "hovertemplate": money,
    }]
    title = "Daily revenue: selected window"
    if overlay_previous:
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
    return figure(data, base_layout(320, title))


def step_labels(rows: pd.DataFrame) -> list[str]:
    return [f"{step}. {event}" for step, event in zip(rows["step"], rows["event_type"],
                                                      strict=True)]


def funnel_figure(steps: pd.DataFrame) -> dict:
    trace = {
        "type": "funnel", "y": step_labels(steps), "x": plain(steps["users"]),
        "textinfo": "value+percent initial+percent previous", "marker": {"color": REVENUE_COLOUR},
    }
    layout = base_layout(360, "Users reaching each step") | {"hovermode": "closest"}
    return figure([trace], layout)


def funnel_breakdown_figure(breakdown: pd.DataFrame) -> dict:
    if breakdown.empty or breakdown["segment_value"].nunique() < 2:
        return empty_figure("Choose a breakdown to compare segments.", height=360)
    conversion = FUNNEL["conversion_from_first"]
    data = [
        {"type": "bar", "x": step_labels(rows), "y": plain(rows[conversion.column]),
         "name": str(value), "hovertemplate": hover("y", conversion.unit)}
        for value, rows in breakdown[breakdown["step"] > 1].groupby("segment_value", sort=False)
    ]
    layout = base_layout(360, f"{conversion.title}, by segment") | {
        "barmode": "group", "hovermode": "closest",
        "yaxis": {"tickformat": conversion.unit.tick, "rangemode": "tozero"},
    }
    return figure(data, layout)
