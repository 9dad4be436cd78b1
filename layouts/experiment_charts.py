"""Experiment figures: relative lift with intervals, and cumulative conversion per variant
(pure builders, plain dicts)."""

from __future__ import annotations

import pandas as pd

from layouts.charts import (
    base_layout,
    day_xaxis,
    empty_figure,
    figure,
    iso_dates,
    plain,
    variant_colours,
    variant_order,
)
from queries.metrics import EXPERIMENT, hover

LIFT, CONVERSION = EXPERIMENT["lift_rel"], EXPERIMENT["conversion_rate"]
INTERVAL_COLOUR = "#94a3b8"  # reads on a light and on a dark background


SEGMENT_SEPARATOR = " · "  # "ios · B": a segment's treatment, coloured as the treatment


def lift_figure(table: pd.DataFrame, control: str | None = None,
                interval: str = "95% interval") -> dict:
    treatments = table[~table["is_control"] & table["lift_rel"].notna()]
    if treatments.empty:
        return empty_figure("No treatment with a defined lift.", height=300)
    by_variant = variant_colours(
        [str(v).split(SEGMENT_SEPARATOR)[-1] for v in table["variant"]], control)
    colours = {str(v): by_variant[str(v).split(SEGMENT_SEPARATOR)[-1]] for v in table["variant"]}
    treatments = treatments.set_index(treatments["variant"].astype(str)).loc[
        [name for name in variant_order(table["variant"], control)
         if name in set(treatments["variant"].astype(str))]]
    trace = {
        "type": "scatter", "x": plain(treatments["lift_rel"]),
        "y": [str(variant) for variant in treatments["variant"]], "mode": "markers",
        "marker": {"size": 12, "color": [colours[str(v)] for v in treatments["variant"]]},
        "error_x": {
            "type": "data", "symmetric": False,
            "array": plain(treatments["lift_rel_ci_high"] - treatments["lift_rel"]),
            "arrayminus": plain(treatments["lift_rel"] - treatments["lift_rel_ci_low"]),
            "thickness": 3, "width": 8, "color": INTERVAL_COLOUR,
        },
        # A point with its interval: one decimal reads at a glance, the grid has two.
        "hovertemplate": f"%{{y}}: {hover('x', LIFT.unit, decimals=1)}<extra></extra>",
    }
    layout = base_layout(120 + 60 * len(treatments), f"Relative lift vs control, {interval}")
    layout |= {
        "shapes": [{"type": "line", "xref": "x", "x0": 0, "x1": 0, "yref": "y domain", "y0": 0,
                    "y1": 1, "line": {"color": INTERVAL_COLOUR, "dash": "dash"}}],
        "xaxis": {"tickformat": LIFT.unit.tick, "zeroline": False},
        # The first treatment on top, as in the grid.
        "yaxis": {"autorange": "reversed", "type": "category"},
        "showlegend": False, "hovermode": "closest",
    }
    return figure([trace], layout)


def cumulative_figure(daily: pd.DataFrame, control: str) -> dict:
    if daily.empty:
        return empty_figure("No assignment dates to plot.", height=320)
    colours = variant_colours(daily["variant"], control)
    by_variant = dict(list(daily.groupby(daily["variant"].astype(str), sort=False)))
    data = [
        {"type": "scatter", "x": iso_dates(rows["day"]), "y": plain(rows["conversion_rate"]),
         "name": f"{variant} (control)" if variant == control else variant,
         "mode": "lines", "line": {"width": 3 if variant == control else 2,
                                   "color": colours[variant]},
         "hovertemplate": hover("y", CONVERSION.unit, decimals=2)}
        for variant in variant_order(by_variant, control)
        for rows in [by_variant[variant]]
    ]
    layout = base_layout(340, "Cumulative conversion by variant")
    # Variants' cumulative rates sit tenths of a point apart: hovers and ticks get a decimal
    # more than elsewhere.
    layout["yaxis"] = {"tickformat": CONVERSION.unit.d3, "rangemode": "tozero"}
    layout["xaxis"] = day_xaxis(daily["day"].min(), daily["day"].max())
    layout["legend"] |= {"traceorder": "normal"}
    return figure(data, layout)


def translucent(colour: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(colour[index:index + 2], 16) for index in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def lift_over_time_figure(over_time: pd.DataFrame, control: str, label: str,
                          sequential: bool = False) -> dict:
    """Per treatment: the relative lift over the users assigned up to each day, with its
    interval as a band; the band narrows as users arrive."""
    if over_time.empty:
        return empty_figure("Not enough users per day yet for a lift over time.", height=340)
    colours = variant_colours([control, *over_time["variant"]], control)
    interval = "always-valid interval" if sequential else "95% interval"
    data = []
    for variant in variant_order(over_time["variant"], None):
        rows = over_time[over_time["variant"] == variant]
        days, colour = iso_dates(rows["day"]), colours[variant]
        data += [
            {"type": "scatter", "x": days, "y": plain(rows["lift_rel_ci_high"]), "mode": "lines",
             "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False,
             "legendgroup": variant},
            {"type": "scatter", "x": days, "y": plain(rows["lift_rel_ci_low"]), "mode": "lines",
             "line": {"width": 0}, "fill": "tonexty", "fillcolor": translucent(colour),
             "hoverinfo": "skip", "showlegend": False, "legendgroup": variant},
            {"type": "scatter", "x": days, "y": plain(rows["lift_rel"]), "mode": "lines",
             "name": variant, "line": {"color": colour, "width": 2}, "legendgroup": variant,
             "hovertemplate": f"{variant}: {hover('y', LIFT.unit, decimals=1)}<extra></extra>"},
        ]
    layout = base_layout(340, f"Lift over time: {label} vs {control}, {interval}")
    layout |= {
        "yaxis": {"tickformat": LIFT.unit.tick, "zeroline": True,
                  "zerolinecolor": INTERVAL_COLOUR},
        "xaxis": day_xaxis(over_time["day"].min(), over_time["day"].max()),
    }
    return figure(data, layout)
