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


def lift_figure(table: pd.DataFrame, control: str | None = None) -> dict:
    treatments = table[~table["is_control"] & table["lift_rel"].notna()]
    if treatments.empty:
        return empty_figure("No treatment with a defined lift.", height=300)
    colours = variant_colours(table["variant"], control)
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
    layout = base_layout(120 + 60 * len(treatments), "Relative lift vs control, 95% interval")
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
