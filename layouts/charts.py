"""Pure figure builders: a table in, a Plotly figure out, as a plain dict.

Figures are dicts of lists, strings and numbers, the JSON that Plotly.js reads, not
`go.Figure`s: validating every property, `add_vrect`, `update_layout` and the deep copy in
`to_plotly_json` cost most of a panel's CPU, and each figure carried the whole plotly_white
template (7 KB). Every figure now references one compact template taken from plotly_white once,
at import; tests/test_figures.py runs each builder's output through Plotly's validator instead.
Numbers and dates become Python lists and ISO strings here, so encoding the answer is cheap.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
import plotly.io as pio
from dash import dcc

from queries.metrics import GROWTH, KPIS, RATIO, Metric, hover, lower_first

INCOMPLETE_NOTE = "in progress"
# Bars are centred on the period's first day, so the shading of a period is too.
HALF_PERIOD = {"day": dt.timedelta(hours=12), "week": dt.timedelta(days=3.5),
               "month": dt.timedelta(days=15)}
# What these charts use of plotly_white: page and axis styling, and the trace defaults that
# show (white bar outlines, the heatmap colour bar's style).
TEMPLATE_LAYOUT_KEYS = (
    "autotypenumbers", "colorway", "font", "hoverlabel", "paper_bgcolor", "plot_bgcolor",
    "xaxis", "yaxis", "title", "shapedefaults", "annotationdefaults",
)


def compact_template() -> dict:
    white = pio.templates["plotly_white"]
    layout = white.layout.to_plotly_json()
    # Transparent: the card's colour shows through, light or dark (assets/style.css themes the
    # texts and grid lines).
    layout |= {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return {
        "layout": {key: layout[key] for key in TEMPLATE_LAYOUT_KEYS},
        "data": {
            "bar": [{"marker": {"line": white.data.bar[0].marker.line.to_plotly_json()}}],
            "heatmap": [{"colorbar": white.data.heatmap[0].colorbar.to_plotly_json()}],
        },
    }


# Shared by every figure and never changed after import.
TEMPLATE = compact_template()


# One colour per thing on every chart: a segment value keeps its colour (its place among the
# column's values, which every chart is given), a variant its place after the control, and the
# control is always the same grey. Tableau's 10 without its grey.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f")
CONTROL_COLOUR = "#64748b"
OTHER_COLOUR = "#cbd5e1"
OTHER_VALUE = "other"


def value_colours(values) -> dict[str, str]:
    """A colour per value of a segment column, from its place among all of them (sorted)."""
    known = sorted({str(value) for value in values} - {OTHER_VALUE})
    colours = {value: PALETTE[index % len(PALETTE)] for index, value in enumerate(known)}
    return colours | {OTHER_VALUE: OTHER_COLOUR}


def variant_order(variants, control: str | None) -> list[str]:
    """The control first, then the treatments in name order."""
    names = sorted({str(variant) for variant in variants})
    return ([control] if control in names else []) + [name for name in names if name != control]


def variant_colours(variants, control: str | None) -> dict[str, str]:
    ordered = variant_order(variants, control)
    treatments = [name for name in ordered if name != control]
    # Treatments start at the palette's orange: its blue is too close to the control's grey.
    colours = {name: PALETTE[(index + 1) % len(PALETTE)] for index, name in enumerate(treatments)}
    return colours | ({control: CONTROL_COLOUR} if control in ordered else {})


def iso_dates(values) -> list[str]:
    """Dates (date, datetime, Timestamp or ISO text) as YYYY-MM-DD, which Plotly reads as dates."""
    return [str(value)[:10] for value in values]


def plain(values: pd.Series) -> list:
    """Python numbers, a missing value as None (JSON null: a gap in a line)."""
    if values.dtype.kind in "iub":  # numpy integers and booleans cannot be missing
        return values.tolist()
    return [None if pd.isna(value) else value for value in values.tolist()]


def base_layout(height: int, title: str | None = None) -> dict:
    layout = {
        "template": TEMPLATE,
        "height": height,
        "margin": {"l": 48, "r": 48, "t": 40 if title else 16, "b": 40},
        "legend": {"orientation": "h", "y": -0.12, "x": 0},
        "hovermode": "x unified",
        "uirevision": "keep",
    }
    if title:
        layout["title"] = {"text": title, "x": 0, "font": {"size": 14}}
    return layout


def figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": layout}


def empty_figure(message: str, height: int = 320) -> dict:
    layout = base_layout(height)
    layout |= {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "annotations": [{"text": message, "showarrow": False,
                         "font": {"size": 14, "color": "#64748b"}}],
    }
    return figure([], layout)


def placeholder_figure(height: int) -> dict:
    """A blank chart of the drawn chart's height: the page keeps its shape until it draws.
    Its own uirevision: the first real figure must set every axis (a reversed one, say),
    not keep the blank's as user state."""
    blank = empty_figure("", height)
    blank["layout"]["uirevision"] = "placeholder"
    return blank


def chart(graph_id, height: int, **config) -> dcc.Graph:
    """A chart that first draws a blank of its usual height. dcc.Graph resizes, and so draws
    again, right after its first drawing: on the blank that costs nothing, and the page keeps
    its shape until the data arrives."""
    return dcc.Graph(id=graph_id, figure=placeholder_figure(height),
                     config={"displaylogo": False} | config)


def incomplete_periods(table: pd.DataFrame) -> list[dt.date]:
    return list(table.loc[~table["is_complete"], "period_start"])


def incomplete_shading(
    table: pd.DataFrame, grain: str, axes: tuple[tuple[str, str], ...] = (("x", "y"),)
) -> tuple[list[dict], list[dict]]:
    """A faint band behind the period still in progress, so nobody reads its dip as a decline,
    and its label above the plot, where no bar can be under it."""
    half = HALF_PERIOD[grain]
    shapes, annotations = [], []
    for start in incomplete_periods(table):
        centre = dt.datetime.combine(start, dt.time())
        x0, x1 = (centre - half).isoformat(), (centre + half).isoformat()
        for xref, yref in axes:
            shapes.append({
                "type": "rect", "xref": xref, "yref": f"{yref} domain", "x0": x0, "x1": x1,
                "y0": 0, "y1": 1, "fillcolor": "#94a3b8", "opacity": 0.15, "line": {"width": 0},
            })
        xref, yref = axes[0]
        annotations.append({
            "text": INCOMPLETE_NOTE, "showarrow": False, "xref": xref, "x": x1,
            "xanchor": "right", "yref": f"{yref} domain", "y": 1, "yanchor": "bottom",
            "font": {"size": 10, "color": "#64748b"},
        })
    return shapes, annotations


# At most this many ticks on a period axis: two-line labels still fit a phone's width.
MAX_TICKS = 7
WEEK_MS = 7 * 24 * 3600 * 1000
WEEK_STEPS = (1, 2, 4, 8, 13, 26, 52)
MONTH_STEPS = (1, 2, 3, 6, 12)
# The hover's header names the period as the cards and tables do.
HOVER_FORMAT = {"day": "%a %-d %b %Y", "week": "Week of %-d %b %Y", "month": "%B %Y"}


def tick_step(periods: int, steps: tuple[int, ...]) -> int:
    return next((step for step in steps if periods / step <= MAX_TICKS), steps[-1])


def period_xaxis(starts: list[str], grain: str) -> dict:
    """The x axis of a chart of periods: its range fits the bars (no space after the data),
    and ticks stand on periods' own starts (a week's Monday, a month's 1st), which Plotly's
    automatic date ticks do not (they put weeks on Sundays)."""
    if not starts:
        return {}
    half = HALF_PERIOD[grain]
    first, last = (dt.datetime.fromisoformat(day) for day in (starts[0], starts[-1]))
    axis = {"type": "date", "range": [(first - half).isoformat(), (last + half).isoformat()],
            "hoverformat": HOVER_FORMAT[grain]}
    if grain == "week":
        axis |= {"tick0": starts[0], "dtick": WEEK_MS * tick_step(len(starts), WEEK_STEPS),
                 "tickformat": "%-d %b<br>%Y"}
    elif grain == "month":
        axis |= {"tick0": starts[0], "dtick": f"M{tick_step(len(starts), MONTH_STEPS)}",
                 "tickformat": "%b<br>%Y"}
    return axis


def day_xaxis(first, last) -> dict:
    """The x axis of a daily series: past two weeks, ticks on Mondays as on the weekly charts
    (Plotly's own fall on Sundays)."""
    axis = {"type": "date", "hoverformat": HOVER_FORMAT["day"]}
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    days = (last - first).days + 1
    if days < 14:
        return axis
    monday = first + dt.timedelta(days=-first.weekday() % 7)
    return axis | {"tick0": monday.isoformat(),
                   "dtick": WEEK_MS * tick_step(math.ceil(days / 7), WEEK_STEPS),
                   "tickformat": "%-d %b<br>%Y"}


@dataclass(frozen=True)
class PeriodAxis:
    """What the charts of one table of periods share: dates, which are complete, the x axis
    and the shading of the period in progress."""

    x: list[str]
    complete: list[bool]
    grain: str
    shapes: list[dict]
    annotations: list[dict]

    @classmethod
    def of(cls, table: pd.DataFrame, grain: str, axes=(("x", "y"),)) -> PeriodAxis:
        shapes, annotations = incomplete_shading(table, grain, axes)
        return cls(iso_dates(table["period_start"]), [bool(c) for c in table["is_complete"]],
                   grain, shapes, annotations)

    def at(self, days: list[str]) -> PeriodAxis:
        """The same periods' flags for a subset of them (one segment's bars)."""
        complete = dict(zip(self.x, self.complete, strict=True))
        return PeriodAxis(days, [complete.get(day, True) for day in days], self.grain, [], [])

    def xaxis(self, **options) -> dict:
        return period_xaxis(self.x, self.grain) | options

    def shade(self, layout: dict) -> dict:
        """The layout with the shading added to its own shapes and labels."""
        if self.shapes:
            layout["shapes"] = [*layout.get("shapes", []), *self.shapes]
            layout["annotations"] = [*layout.get("annotations", []), *self.annotations]
        return layout

    def bar_marker(self, colour: str | None) -> dict:
        """Bars of periods in progress hatched and paler; at day grain without outlines, which
        would leave hundreds of slivers."""
        marker = {"opacity": [1 if complete else 0.55 for complete in self.complete],
                  "pattern": {"shape": ["" if complete else "/" for complete in self.complete],
                              "solidity": 0.4}}
        if colour:
            marker["color"] = colour
        if self.grain == "day":
            marker["line"] = {"width": 0}
        return marker

    def line(self, trace: dict) -> list[dict]:
        """A line whose points in progress are drawn dashed after the last complete point, in
        the same legend entry (toggled together)."""
        y = trace["y"]
        if all(self.complete):
            return [trace]
        solid = [value if complete else None for value, complete in zip(y, self.complete,
                                                                          strict=True)]
        last = max((i for i, complete in enumerate(self.complete) if complete), default=None)
        dashed = [value if not complete or i == last else None
                  for i, (value, complete) in enumerate(zip(y, self.complete, strict=True))]
        group = trace.get("legendgroup", trace.get("name"))
        line = dict(trace.get("line", {}))
        return [
            trace | {"y": solid, "legendgroup": group},
            trace | {"y": dashed, "legendgroup": group, "showlegend": False,
                     "line": line | {"dash": "dot"}, "connectgaps": False,
                     "name": f"{trace.get('name', '')} (in progress)"},
        ]

    def complete_values(self, values: list) -> list[float]:
        return [value for value, complete in zip(values, self.complete, strict=True)
                if complete and value is not None]


def clipped_autorange(low: list[float], high: list[float], axis: dict | None = None) -> dict:
    """An axis that autoscales (a legend click still rescales it) but never beyond the complete
    periods' extent: a period in progress cannot set the scale."""
    options = {}
    if low and min(low) < 0:
        options["clipmin"] = min(low) * 1.05
    if high and max(high) > 0:
        options["clipmax"] = max(high) * 1.05
    return (axis or {}) | ({"autorangeoptions": options} if options else {})


def reference_line(y: float, yref: str = "y", label: str = "") -> dict:
    """A dotted horizontal line at a threshold (quick ratio 1: as many users gained as lost)."""
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": yref, "y0": y, "y1": y,
            "line": {"color": "#64748b", "width": 1, "dash": "dot"}, "layer": "below",
            "name": label}


def ratio_axis_top(values: pd.Series) -> float:
    """Early periods have tiny churn and huge quick ratios: let the typical range fill the axis."""
    ratios = values.dropna()
    typical = float(ratios.quantile(0.9)) if len(ratios) else 1.0
    return max(1.05, min(typical * 1.3, float(ratios.max()) * 1.05 if len(ratios) else 1.05))


ROLLING_DAYS = 7


def rolling(table: pd.DataFrame, metric: Metric, days: int = ROLLING_DAYS) -> pd.Series:
    """The metric over the `days` days ending on each day, complete days only: a mean of a
    count; a ratio of the summed numerators and denominators (the metric catalogue's factors),
    not a mean of daily ratios. Empty until `days` days are at hand."""
    complete = table["is_complete"].astype(bool)
    columns = table.assign(previous_active_users=table["active_users"].shift(1))

    def summed(factor: tuple[str, ...]) -> pd.Series:
        total = sum(columns[column].astype(float) for column in factor)
        return total.where(complete).rolling(days, min_periods=days).sum()

    if not metric.is_ratio:
        values = table[metric.column].astype(float).where(complete)
        return values.rolling(days, min_periods=days).mean()
    numerator = math.prod(summed(factor) for factor in metric.numerators)
    denominator = math.prod(summed(factor) for factor in metric.denominators)
    return numerator / denominator.where(denominator != 0)


def combined_figure(table: pd.DataFrame, grain: str, smooth: bool = False) -> dict:
    """New, resurrected (and retained, on a click) above zero, churned below; the quick ratio
    on its own axis with the line at 1. The retention rate, a percentage, has its own chart.
    `smooth` (day grain): 7-day averages instead of each day."""
    smooth = smooth and grain == "day"
    periods = PeriodAxis.of(table, grain)
    x = periods.x

    def values(metric: Metric) -> list:
        return plain(rolling(table, metric)) if smooth else plain(table[metric.column])

    bars = [
        (GROWTH["new_users"], True),
        (GROWTH["resurrected_users"], True),
        (GROWTH["retained_users"], "legendonly"),
    ]
    decimals = 1 if smooth else None
    data = [
        {"type": "bar", "x": x, "y": values(metric), "name": metric.label,
         "visible": visible, "marker": periods.bar_marker(metric.colour),
         "hovertemplate": hover("y", metric.unit, decimals)}
        for metric, visible in bars
    ]
    churned_metric = GROWTH["churned_users"]
    churned = values(churned_metric)
    # Churn is drawn below zero; the hover shows the count.
    data.append({
        "type": "bar", "x": x, "y": [None if value is None else -value for value in churned],
        "name": churned_metric.label, "visible": True,
        "marker": periods.bar_marker(churned_metric.colour),
        "customdata": churned, "hovertemplate": hover("customdata", churned_metric.unit, decimals),
    })
    quick_ratio = GROWTH["quick_ratio"]
    ratios = values(quick_ratio)
    data += periods.line({
        "type": "scatter", "x": x, "y": ratios, "name": quick_ratio.label,
        "yaxis": "y2", "mode": "lines+markers", "line": {"color": quick_ratio.colour, "width": 2},
        "marker": {"size": 4}, "hovertemplate": hover("y", quick_ratio.unit),
    })
    stacked = [sum(filter(None, values_)) for values_ in zip(
        *(values(metric) for metric, _ in bars), strict=True)]
    title = "Growth accounting" + (", 7-day average" if smooth else "")
    layout = base_layout(440, title) | {
        "barmode": "relative",
        "xaxis": periods.xaxis(),
        "yaxis": clipped_autorange(
            [-value for value in periods.complete_values(churned)],
            periods.complete_values(stacked), {"title": {"text": "users"}}),
        "yaxis2": {"title": {"text": lower_first(quick_ratio.label)}, "overlaying": "y",
                   "side": "right", "showgrid": False, "zeroline": False, "tickmode": "auto",
                   "nticks": 6,
                   "tickformat": quick_ratio.unit.d3,
                   "range": [0, ratio_axis_top(pd.Series(periods.complete_values(ratios),
                                                         dtype=float))]},
        "shapes": [reference_line(1, "y2", "quick ratio 1")],
    }
    return figure(data, periods.shade(layout))


def metric_figure(table: pd.DataFrame, metric: Metric, periods: PeriodAxis,
                  smooth: bool = False) -> dict:
    """One metric per chart, on its unit's axis; a period in progress kept out of the scale.
    `smooth` (day grain): each day faint, with the 7-day average over it."""
    y = plain(table[metric.column])
    if metric.is_ratio:
        traces = periods.line({
            "type": "scatter", "x": periods.x, "y": y, "mode": "lines+markers",
            "name": metric.label, "line": {"color": metric.colour}, "marker": {"size": 4},
            "hovertemplate": hover("y", metric.unit),
        })
    else:
        marker = periods.bar_marker(metric.colour)
        traces = [{"type": "bar", "x": periods.x, "y": y, "name": metric.label,
                   "marker": marker, "hovertemplate": hover("y", metric.unit)}]
    if smooth:
        for trace in traces:
            trace["opacity"] = 0.35
        traces.append({
            "type": "scatter", "x": periods.x, "y": plain(rolling(table, metric)),
            "mode": "lines", "name": f"{metric.label}, 7-day average",
            "line": {"color": metric.colour, "width": 2.5},
            "hovertemplate": hover("y", metric.unit, 1 if not metric.is_ratio else None),
        })
    complete = periods.complete_values(y)
    axis = {"tickformat": metric.unit.tick} if metric.unit.tick else {}
    if metric.unit is RATIO:
        axis["range"] = [0, ratio_axis_top(pd.Series(complete, dtype=float))]
    else:
        axis = clipped_autorange(complete, complete, axis)
    layout = base_layout(240, metric.label) | {"showlegend": False, "yaxis": axis,
                                               "xaxis": periods.xaxis()}
    if metric.unit is RATIO:
        layout["shapes"] = [reference_line(1)]
    return figure(traces, periods.shade(layout))


def metric_figures(table: pd.DataFrame, grain: str,
                   smooth: bool = False) -> list[tuple[Metric, dict]]:
    periods = PeriodAxis.of(table, grain)
    smooth = smooth and grain == "day"
    return [(metric, metric_figure(table, metric, periods, smooth)) for metric in KPIS]


PREVIOUS_COLOUR = "#94a3b8"


def previous_lines(current: pd.DataFrame, previous: pd.DataFrame | None,
                   series: list[tuple[Metric, str, float]]) -> list[dict]:
    """Dashed lines of the previous range over the current periods (previous_start says which
    period each value is from): one per (metric, y axis, sign) of `series`."""
    if previous is None or previous.empty:
        return []
    aligned = current[["period_start"]].merge(previous, on="period_start", how="left")
    x = iso_dates(aligned["period_start"])
    starts = [None if pd.isna(day) else str(day)[:10] for day in aligned["previous_start"]]
    lines = []
    for metric, axis, sign in series:
        values = [None if pd.isna(v) else sign * v for v in aligned[metric.column]]
        lines.append({
            "type": "scatter", "x": x, "y": values, "yaxis": axis,
            "name": f"{metric.label}, previous range", "mode": "lines",
            "line": {"color": metric.colour or PREVIOUS_COLOUR, "dash": "dash", "width": 1.5},
            "opacity": 0.7, "legendgroup": "previous", "customdata": starts,
            "hovertemplate": f"{hover('y', metric.unit)} (period of %{{customdata}})",
        })
    return lines


def segment_lines_figure(table: pd.DataFrame, grain: str, metric: Metric, column: str,
                         colours: dict[str, str]) -> dict:
    """One line per segment value of a metric over the periods (a breakdown)."""
    data = []
    for value, rows in table.groupby("segment", sort=False):
        periods = PeriodAxis.of(rows, grain)
        data += periods.line({
            "type": "scatter", "x": periods.x, "y": plain(rows[metric.column]),
            "name": str(value), "mode": "lines+markers", "marker": {"size": 4},
            "line": {"color": colours.get(str(value), OTHER_COLOUR), "width": 2},
            "hovertemplate": f"{value}: {hover('y', metric.unit)}<extra></extra>",
        })
    first = table[table["segment"] == table["segment"].iloc[0]]
    periods = PeriodAxis.of(first, grain)
    layout = base_layout(440, f"{metric.label} by {column}") | {
        "xaxis": periods.xaxis(), "yaxis": {"title": {"text": lower_first(metric.label)},
                                            "rangemode": "tozero"},
    }
    return figure(data, periods.shade(layout))
