"""The metric catalogue: every metric the app shows, described once.

Per metric: its column, its label, its definition, its unit, its colour, whether more is better,
and the columns it is computed from. KPI cards, grids, charts, tooltips, the chat and the README
all read it, and a value's format follows from its unit, never from its column's name.

A column can mean different things in different tables (`retention_rate` of a period, of a
cohort), so each table has its own dict of metrics, keyed by column, in the table's order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """How values of one kind are written: Python format specs for text (cards, the chat) and
    d3 format specs for AG Grid cells and Plotly hovers and axes."""

    name: str
    text: str  # Python spec of a value
    change: str  # Python spec of a change between two values
    d3: str  # d3 spec of a value: grid cells, chart hovers
    tick: str | None = None  # d3 spec of an axis; None leaves Plotly's default
    suffix: str = ""  # after the number, in every form
    # A change of a rate is a difference of percentages: written in points, not as a %.
    change_in_points: bool = False
    is_money: bool = False  # written after the deployment's currency (use_currency)
    is_duration: bool = False  # seconds, written as "5 min 42 s"
    scale: float = 1  # written as value × scale (points: a difference of rates × 100)

    @property
    def prefix(self) -> str:
        return currency_prefix(CURRENCY[0]) if self.is_money else ""


# One currency per process, set from the config when the app is built (app/factory.py).
CURRENCY = ["USD"]
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥",
                    "AUD": "A$", "CAD": "C$", "SGD": "S$"}


def use_currency(code: str) -> None:
    CURRENCY[0] = code.upper()


def currency_prefix(code: str) -> str:
    """"$" for USD; a code without a well-known symbol is written out: "CHF 12.00"."""
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


COUNT = Unit("count", text=",.0f", change="+,.0f", d3=",")
RATE = Unit("rate", text=".1%", change="+.1f", d3=".1%", tick=".0%", change_in_points=True)
RATIO = Unit("ratio", text=".2f", change="+.2f", d3=".2f")
MONEY = Unit("money", text=",.2f", change="+,.2f", d3=",.2f", is_money=True)
SECONDS = Unit("seconds", text=",.0f", change="+,.0f", d3=",.0f", suffix=" s", is_duration=True)
# A relative lift is a rate of change: a signed percentage. An absolute lift is a difference
# of two rates: signed percentage points, as the power box and the KPI cards write changes.
LIFT = Unit("lift", text="+.2%", change="+.2f", d3="+.2%", tick="+.0%", change_in_points=True)
LIFT_POINTS = Unit("lift in points", text="+.2f", change="+.2f", d3="+.2f", suffix=" pts",
                   change_in_points=True, scale=100)
P_VALUE = Unit("p-value", text=".4g", change="+.4g", d3=".4g")

Factors = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Metric:
    column: str
    label: str  # a title: KPI card, grid header, chart title and trace
    name: str  # in a sentence: "new users", "average order value"
    definition: str  # one sentence, for tooltips
    unit: Unit
    higher_is_better: bool = True
    colour: str | None = None
    # metric = product of numerators / product of denominators; each factor sums columns.
    numerators: Factors = ()
    denominators: Factors = ()
    formal: str = ""  # the definition for a period *p*, as the README's table gives it
    schema_note: str = ""  # what the chat's model is told about the column, in brackets

    @property
    def is_ratio(self) -> bool:
        """One quantity over another: drawn as a line, since ratios do not add up."""
        return bool(self.denominators)

    @property
    def title(self) -> str:
        """The sentence name as a title: "Average order value" where the label says "AOV"."""
        return self.name[:1].upper() + self.name[1:]


def by_column(*metrics: Metric) -> dict[str, Metric]:
    return {metric.column: metric for metric in metrics}


# A component of the growth rates that the chat computes beside them; no table shows it.
PREVIOUS_ACTIVE = Metric(
    "previous_active_users", "Active before", "active users of the period before",
    "Active users of the period before.", COUNT,
)

# Growth accounting per period, in the order of the chat's growth tables.
GROWTH = by_column(
    Metric(
        "new_users", "New", "new users", "Active this period for the first time ever.", COUNT,
        colour="#3b82f6",
        formal="active in *p*, and *p* is the user's first-ever active period",
    ),
    Metric(
        "retained_users", "Retained", "retained users",
        "Active this period and the previous one.", COUNT, colour="#10b981",
        formal="active in *p* and in *p − 1*",
    ),
    Metric(
        "resurrected_users", "Resurrected", "resurrected users",
        "Active this period, not in the previous one, but at some time before.", COUNT,
        colour="#8b5cf6", formal="active in *p*, not in *p − 1*, but active at some time before",
    ),
    Metric(
        "churned_users", "Churned", "churned users",
        "Active in the previous period but not in this one.", COUNT, higher_is_better=False,
        colour="#ef4444", formal="active in *p − 1*, not in *p*",
    ),
    Metric(
        "active_users", "Active", "active users", "New + retained + resurrected users.", COUNT,
        colour="#334155", numerators=(("new_users", "retained_users", "resurrected_users"),),
        formal="new + retained + resurrected", schema_note="= new + retained + resurrected",
    ),
    Metric(
        "retention_rate", "Retention rate", "retention rate",
        "Retained / active users of the previous period.", RATE, colour="#0d9488",
        numerators=(("retained_users",),), denominators=((PREVIOUS_ACTIVE.column,),),
        formal="retained / active users of *p − 1* (empty when that is 0)",
        schema_note="= retained / active of the previous period",
    ),
    Metric(
        "churn_rate", "Churn rate", "churn rate",
        "Churned / active users of the previous period: 1 − retention rate.", RATE,
        higher_is_better=False,
        numerators=(("churned_users",),), denominators=((PREVIOUS_ACTIVE.column,),),
        schema_note="= churned / active of the previous period = 1 - retention_rate",
    ),
    Metric(
        "quick_ratio", "Quick ratio", "quick ratio",
        "(New + resurrected) / churned: above 1 the user base grows. Empty when nobody churned.",
        RATIO, colour="#f59e0b",
        numerators=(("new_users", "resurrected_users"),), denominators=(("churned_users",),),
        formal="(new + resurrected) / churned (empty when nobody churned)",
        schema_note="= (new + resurrected) / churned",
    ),
)
# The KPI cards and the chart per metric, in their order.
KPIS = tuple(GROWTH[column] for column in (
    "new_users", "retained_users", "resurrected_users", "churned_users", "active_users",
    "quick_ratio", "retention_rate",
))
# The README's growth accounting table, in its order.
README_GROWTH = tuple(GROWTH[column] for column in (
    "new_users", "retained_users", "resurrected_users", "churned_users", "active_users",
    "retention_rate", "quick_ratio",
))

# Revenue per period (or window), in the order of the revenue trend.
REVENUE = by_column(
    Metric(
        "revenue", "Revenue", "revenue", "Sum of revenue over events in the window.", MONEY,
        colour="#0d9488", numerators=(("orders",), ("aov",)),
    ),
    Metric(
        "orders", "Orders", "orders", "Events with a revenue value.", COUNT, colour="#64748b",
        schema_note="events with a revenue value",
    ),
    Metric(
        "paying_users", "Paying users", "paying users", "Distinct users with at least one order.",
        COUNT,
    ),
    GROWTH["active_users"],
    Metric(
        "aov", "AOV", "average order value", "Revenue / orders.", MONEY, colour="#f59e0b",
        numerators=(("revenue",),), denominators=(("orders",),), schema_note="revenue / orders",
    ),
    Metric(
        "arpu", "ARPU", "revenue per active user", "Revenue / active users.", MONEY,
        numerators=(("revenue",),), denominators=(("active_users",),),
        schema_note="revenue / active users",
    ),
)
# The revenue window's KPI cards, in their order.
WINDOW_KPIS = tuple(REVENUE[column] for column in ("revenue", "orders", "aov", "paying_users"))

# Everything the chat can compute for one period, side by side in one table.
PERIOD_METRICS = GROWTH | REVENUE | by_column(PREVIOUS_ACTIVE)

# Retention triangle: one row per cohort and period index k.
RETENTION = by_column(
    Metric(
        "cohort_size", "Users", "cohort size",
        "Users whose first active period is the cohort's.", COUNT,
    ),
    Metric(
        "retained_users", "Retained", "retained users",
        "Members of the cohort active in period cohort + k.", COUNT,
        schema_note="members active in period cohort + k",
    ),
    Metric(
        "retention_rate", "Retention rate", "retention rate",
        "Retained users / the cohort's size.", RATE,
        numerators=(("retained_users",),), denominators=(("cohort_size",),),
    ),
)

# Funnel: one row per step (and segment value).
FUNNEL = by_column(
    Metric("users", "Users", "users", "Users who reached the step.", COUNT),
    Metric(
        "conversion_from_previous", "From previous", "conversion from the previous step",
        "Users at this step / users at the step before.", RATE,
    ),
    Metric(
        "conversion_from_first", "From first", "conversion from the first step",
        "Users at this step / users at the first step.", RATE,
    ),
    Metric(
        "median_seconds_from_previous", "Median time from previous",
        "median time from the previous step",
        "Median time between the step before and this one, over users reaching this step.",
        SECONDS, higher_is_better=False,
    ),
)

# Experiments: one row per variant; lifts and tests compare each treatment with the control.
EXPERIMENT = by_column(
    Metric("users", "Users", "users", "Users assigned to this variant and no other.", COUNT),
    Metric(
        "converters", "Converters", "converters",
        "Users with a conversion event at or after assignment.", COUNT,
    ),
    Metric(
        "conversion_rate", "Rate", "conversion rate", "Converters / users.", RATE,
        numerators=(("converters",),), denominators=(("users",),),
    ),
    Metric("lift_abs", "Lift (abs)", "absolute lift", "Rate − the control's rate.", LIFT_POINTS),
    Metric(
        "lift_abs_ci_low", "abs CI low", "lower end of the absolute lift's 95% interval",
        "Lower end of the absolute lift's 95% interval.", LIFT_POINTS,
    ),
    Metric(
        "lift_abs_ci_high", "abs CI high", "upper end of the absolute lift's 95% interval",
        "Upper end of the absolute lift's 95% interval.", LIFT_POINTS,
    ),
    Metric(
        "lift_rel", "Lift (rel)", "relative lift", "Rate / the control's rate − 1.", LIFT,
        schema_note="relative lift over control",
    ),
    Metric(
        "lift_rel_ci_low", "rel CI low", "lower end of the relative lift's 95% interval",
        "Lower end of the relative lift's 95% interval.", LIFT,
    ),
    Metric(
        "lift_rel_ci_high", "rel CI high", "upper end of the relative lift's 95% interval",
        "Upper end of the relative lift's 95% interval.", LIFT,
    ),
    Metric(
        "p_value", "p-value", "p-value", "Two-proportion z-test against the control.", P_VALUE,
        higher_is_better=False,
    ),
    Metric(
        "p_value_adjusted", "p (Holm)", "Holm-adjusted p-value",
        "The p-value adjusted for several treatments (Holm).", P_VALUE, higher_is_better=False,
    ),
    Metric(
        "chance_to_beat_control", "Chance to beat control", "chance to beat control",
        "Posterior probability that the variant's rate is above the control's.", RATE,
    ),
    Metric(
        "srm_p_value", "SRM p-value", "sample-ratio mismatch p-value",
        "Chi-square test of the users per variant against the expected weights.", P_VALUE,
        schema_note="below 0.001: sample-ratio mismatch, do not trust",
    ),
    Metric(
        "excluded_users", "Excluded users", "excluded users",
        "Users assigned to several variants, left out of every count.", COUNT,
        higher_is_better=False,
    ),
)


# --- formatting ----------------------------------------------------------------------------


def format_value(value: float, unit: Unit) -> str:
    """A value as text, e.g. 0.4567 as a rate: "45.7%"; 342 seconds: "5 min 42 s"."""
    if unit.is_duration:
        return format_duration(value)
    if unit.scale != 1:
        return f"{value * unit.scale:{unit.text}}{unit.suffix}"
    if unit.prefix:
        sign = "-" if value < 0 else ""
        return f"{sign}{unit.prefix}{abs(value):{unit.text}}{unit.suffix}"
    return f"{value:{unit.text}}{unit.suffix}"


def format_change(delta: float, unit: Unit) -> str:
    """A signed change, e.g. +0.012 of a rate: "+1.2 pts"; of money: "+$12.00"."""
    if unit.change_in_points:
        return f"{delta * 100:{unit.change}} pts"
    if unit.is_duration:
        return ("+" if delta >= 0 else "-") + format_duration(abs(delta))
    if unit.prefix:
        return f"{'-' if delta < 0 else '+'}{unit.prefix}{abs(delta):{unit.change[1:]}}"
    return f"{delta:{unit.change}}{unit.suffix}"


def format_duration(seconds: float) -> str:
    """Seconds as a reader says them: "42 s", "5 min 42 s", "3 h 5 min", "2 d 4 h"."""
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days:,} d {hours} h" if hours else f"{days:,} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def with_decimals(spec: str, decimals: int) -> str:
    """A format spec with another precision, e.g. ".1%" with 2 decimals: ".2%"; a count's ","
    with 1: ",.1f" (an average of counts)."""
    if spec == ",":
        return f",.{decimals}f"
    changed, count = re.subn(r"\.\d+", f".{decimals}", spec, count=1)
    if not count:
        raise ValueError(f"{spec!r} has no precision to change")
    return changed


def hover(variable: str, unit: Unit, decimals: int | None = None) -> str:
    """A Plotly hover placeholder, e.g. "%{y:.1%}"; decimals overrides the unit's precision.
    Plotly cannot scale a value: a chart of a scaled unit passes scaled values."""
    spec = unit.d3 if decimals is None else with_decimals(unit.d3, decimals)
    return f"{unit.prefix}%{{{variable}:{spec}}}{unit.suffix}"


def lower_first(label: str) -> str:
    """A label inside a sentence or an axis: "Retention rate" → "retention rate", "AOV" stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def markdown_table(metrics: Iterable[Metric]) -> str:
    """The README's definition table: one row per metric, its formal definition."""
    rows = ["| metric | definition |", "| --- | --- |"]
    rows += [f"| {lower_first(metric.label)} | {metric.formal} |" for metric in metrics]
    return "\n".join(rows)


def schema_columns(metrics: Iterable[Metric], explained: Iterable[str] = ()) -> str:
    """Columns as the chat's model reads them: each note in brackets, except for the columns
    it has been told about already (`explained`)."""
    told = set(explained)
    return ", ".join(
        f"{metric.column} ({metric.schema_note})"
        if metric.schema_note and metric.column not in told else metric.column
        for metric in metrics
    )
