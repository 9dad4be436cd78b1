"""The built-in analyst: answers the common questions from the app's own queries, no model needed.

Growth statuses use each user's whole history, so the per-period tables are computed over the
whole data (with the view's segment filters) and the view's date range only picks rows; a named
month resolves to the latest such month in the data unless the question gives a year.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

import pandas as pd

from queries.ask.answer import Answer
from queries.ask.questions import EXAMPLES, PeriodRef, Question, from_revenue_table, parse
from queries.ask.tables import with_churn_rate
from queries.bounds import DataBounds, data_bounds
from queries.errors import ParameterError
from queries.experiments import (
    ExperimentQuery,
    experiment_names,
    run_experiment,
    srm_explanation,
    verdict_lines,
)
from queries.growth import GrowthQuery, growth_table
from queries.metrics import (
    COUNT,
    PERIOD_METRICS,
    PREVIOUS_ACTIVE,
    RATE,
    REVENUE,
    Metric,
    Unit,
    format_change,
    format_value,
)
from queries.periods import Grain, period_end, period_index, period_start
from queries.query_log import collecting
from queries.retention import RetentionQuery, retention_table
from queries.revenue import RevenueQuery, revenue_trend, revenue_window
from queries.view import PeriodView


class CannotAnswer(ValueError):
    """The question is understood but the data cannot answer it; the message says why."""


@dataclass(frozen=True)
class AskContext:
    backend: object
    view: PeriodView  # the filter bar: grain, date range, segment
    declared: dict = field(default_factory=dict)  # declared experiments (parse_declared)
    experiment: str | None = None  # the experiment the reader has open, if any


def answer_offline(text: str, context: AskContext) -> Answer:
    """The analyst's answer, with the SQL of every query it ran."""
    names = experiment_names(context.backend, context.declared)
    with collecting() as records:
        answer = answer_question(parse(text, names), context)
    return replace(answer, sql=tuple(sql_used(records)))


def sql_used(records) -> list[str]:
    """Each query once, with its parameters, as the reader would rerun it."""
    seen = []
    for entry in records:
        text = entry.sql.strip()
        if entry.params:
            text += "\n-- parameters: " + ", ".join(f"{k} = {v!r}" for k, v in entry.params.items())
        if text not in seen:
            seen.append(text)
    return seen


def answer_question(question: Question, context: AskContext) -> Answer:
    if question.kind == "unknown":
        return capabilities()
    bounds = data_bounds(context.backend)
    if bounds.is_empty:
        return Answer("There is no data yet: load events first.")
    try:
        return ANSWERS[question.kind](question, context, bounds)
    except CannotAnswer as reason:
        return Answer(str(reason))


def capabilities(intro: str = "I could not match that question. I can answer:") -> Answer:
    return Answer(intro, bullets=tuple(f"{what}, e.g. “{example}”" for what, example in EXAMPLES))


# --- formatting ---------------------------------------------------------------------------


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)


def fmt(value, unit: Unit) -> str:
    return "undefined" if is_missing(value) else format_value(value, unit)


def fmt_change(before, after, unit: Unit) -> str:
    if is_missing(before) or is_missing(after):
        return "no comparison"
    delta = after - before
    text = format_change(delta, unit)
    if not unit.change_in_points and before:  # a rate's change is already in points
        text += f", {delta / abs(before):+.1%}"
    return text


def moved(label: str, before, after, unit: Unit) -> str:
    """E.g. "New users: 1,200 → 1,350 (+150, +12.5%)"."""
    return (f"{label}: {fmt(before, unit)} → {fmt(after, unit)}"
            f" ({fmt_change(before, after, unit)})")


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def period_label(start: dt.date, grain: Grain) -> str:
    if grain is Grain.MONTH:
        return f"{start:%B %Y}"
    day = f"{start.day} {start:%b %Y}"
    return f"the week of {day}" if grain is Grain.WEEK else day


def component_label(column: str) -> str:
    return PERIOD_METRICS[column].name


def unit_of(column: str) -> Unit:
    return PERIOD_METRICS[column].unit


# --- the per-period table -----------------------------------------------------------------


def period_table(context: AskContext, grain: Grain, metrics: tuple[str, ...]) -> pd.DataFrame:
    """One row per period of the whole data, with every column the metrics need."""
    segment = context.view.segment
    table = with_churn_rate(growth_table(context.backend, GrowthQuery(grain, segment=segment)))
    table[PREVIOUS_ACTIVE.column] = table["active_users"].shift(1)
    if any(from_revenue_table(m) for m in metrics):
        trend = revenue_trend(context.backend, RevenueQuery(grain, segment=segment))
        extra = trend.drop(columns=["active_users", "is_complete"])
        table = table.merge(extra, on="period_start", how="left")
    table["period_end"] = [period_end(period_index(d, grain), grain) for d in table["period_start"]]
    return table


def in_range(table: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Periods that overlap [start, end], as the dashboard shows them."""
    keep = pd.Series(True, index=table.index)
    if start:
        keep &= table["period_end"] >= start
    if end:
        keep &= table["period_start"] <= end
    return table[keep]


def resolve_period(ref: PeriodRef, grain: Grain, bounds: DataBounds) -> dt.date:
    """The start of the named period; a month without a year is the latest one in the data."""
    if ref.day is not None:
        day = ref.day
    else:
        last = bounds.last_day
        year = ref.year or (last.year if ref.month <= last.month else last.year - 1)
        day = dt.date(year, ref.month, 1)
    start = period_start(period_index(day, grain), grain)
    if day > bounds.last_day or period_end(period_index(day, grain), grain) < bounds.first_day:
        raise CannotAnswer(
            f"{period_label(start, grain)} is outside the data, which runs from"
            f" {bounds.first_day:%d %b %Y} to {bounds.last_day:%d %b %Y}."
        )
    return start


def named_or_latest(question: Question, table, grain: Grain, bounds: DataBounds) -> pd.Series:
    """The row of the period the question names, else of the latest complete period."""
    if question.period:
        start = resolve_period(question.period, grain, bounds)
        return table[table["period_start"] == start].iloc[0]
    complete = table[table["is_complete"]]
    if complete.empty:
        raise CannotAnswer("There is no complete period yet.")
    return complete.iloc[-1]


def question_grain(question: Question, context: AskContext) -> Grain:
    """A named month is a month; otherwise the question's own grain word, else the view's."""
    if question.period and question.period.month and question.kind != "extreme":
        return Grain.MONTH
    return question.grain or context.view.grain


def incomplete_note(row: pd.Series, grain: Grain, bounds: DataBounds) -> tuple[str, ...]:
    if row["is_complete"]:
        return ()
    return (f"{capitalised(period_label(row['period_start'], grain))} is still in progress (the"
            f" data ends on {bounds.last_day:%d %b %Y}), so its numbers are not final.",)


def previous_row(table: pd.DataFrame, row: pd.Series) -> pd.Series | None:
    position = table.index.get_loc(row.name)
    return table.iloc[position - 1] if position > 0 else None


def period_and_previous(question: Question, context: AskContext, grain: Grain,
                        bounds: DataBounds, columns: tuple[str, ...]):
    """The metric table, the period the question names (or the latest), and the one before."""
    table = period_table(context, grain, columns)
    row = named_or_latest(question, table, grain, bounds)
    return table, row, previous_row(table, row)


# --- answers -------------------------------------------------------------------------------


def answer_extreme(question: Question, context: AskContext, bounds: DataBounds) -> Answer:
    metric = PERIOD_METRICS[question.metrics[0]]
    grain = question.grain or context.view.grain
    table = period_table(context, grain, (metric.column,))
    start, end = context.view.start, context.view.end
    if question.period and (question.period.month and grain is not Grain.MONTH):
        month = resolve_period(question.period, Grain.MONTH, bounds)
        start, end = month, period_end(period_index(month, Grain.MONTH), Grain.MONTH)
    shown = in_range(table, start, end)
    candidates = shown[shown[metric.column].notna()]
    notes = ()
    if not question.include_incomplete and not candidates["is_complete"].all():
        left_out = candidates.loc[~candidates["is_complete"], "period_start"].iloc[-1]
        notes = (f"{capitalised(period_label(left_out, grain))} is still in progress and was left"
                 " out (ask “including the current period” to count it).",)
        candidates = candidates[candidates["is_complete"]]
    if candidates.empty:
        raise CannotAnswer(f"No period in this range has a {metric.name} to compare.")
    ordered = candidates.sort_values(
        metric.column, ascending=question.extreme == "lowest", kind="stable"
    )
    best = ordered.iloc[0]
    text = (f"{capitalised(period_label(best['period_start'], grain))} had the {question.extreme}"
            f" {metric.name}: {fmt(best[metric.column], metric.unit)}{detail(metric, best)}.")
    bullets = tuple(
        f"Next: {period_label(row['period_start'], grain)}, {fmt(row[metric.column], metric.unit)}"
        for _, row in ordered.iloc[1:3].iterrows()
    )
    bullets += (f"Out of {len(candidates)} {grain.value}s in the view's range.",)
    return Answer(text, bullets, numbers_of(ordered.head(10), metric), notes=notes)


def detail(metric: Metric, row: pd.Series) -> str:
    """The counts behind a rate, e.g. "(540 of the 1,200 active users of the period before)"."""
    if metric.unit is not RATE or not metric.denominators:
        return ""
    numerator = metric.numerators[0][0]
    return (f" ({fmt(row[numerator], COUNT)} {PERIOD_METRICS[numerator].name} of the"
            f" {fmt(row[PREVIOUS_ACTIVE.column], COUNT)} users active in the period before)")


def numbers_of(rows: pd.DataFrame, *metrics: Metric) -> pd.DataFrame:
    """The period, the metrics asked about, then what they are computed from."""
    columns = ["period_start", *dict.fromkeys(metric.column for metric in metrics)]
    for metric in metrics:
        for factor in (*metric.numerators, *metric.denominators):
            columns += [c for c in factor if c not in columns]
    return rows[[*columns, "is_complete"]].reset_index(drop=True)


def answer_compare(question: Question, context: AskContext, bounds: DataBounds) -> Answer:
    first, second = (PERIOD_METRICS[m] for m in question.metrics[:2])
    grain = question_grain(question, context)
    _table, row, before = period_and_previous(
        question, context, grain, bounds, (first.column, second.column)
    )
    label = period_label(row["period_start"], grain)
    a, b = row[first.column], row[second.column]
    text = (f"In {label}: {first.name} {fmt(a, first.unit)}, {second.name}"
            f" {fmt(b, second.unit)}{relation(first, a, second, b)}.")
    bullets = []
    numbers = []
    for metric in (first, second):
        previous = None if before is None else before[metric.column]
        if before is not None:
            then = period_label(before["period_start"], grain)
            label = f"{metric.name.capitalize()} from {then}"
            bullets.append(moved(label, previous, row[metric.column], metric.unit))
        numbers.append({"metric": metric.name, "period_start": row["period_start"],
                        "value": row[metric.column], "previous_value": previous})
    return Answer(text, tuple(bullets), pd.DataFrame(numbers),
                  notes=incomplete_note(row, grain, bounds))


def relation(first: Metric, a, second: Metric, b) -> str:
    if is_missing(a) or is_missing(b) or first.unit != second.unit:
        return ""
    if first.unit is RATE:
        return f": {first.name} is {abs(a - b) * 100:.1f} points {'above' if a >= b else 'below'}"
    difference = f"{fmt(abs(a - b), first.unit)} {'more' if a >= b else 'fewer'}"
    if b:
        return f": {first.name} are {a / b:.2f} times {second.name} ({difference})"
    return f" ({difference})"


def answer_value(question: Question, context: AskContext, bounds: DataBounds) -> Answer:
    metric = PERIOD_METRICS[question.metrics[0]]
    grain = question_grain(question, context)
    table, row, before = period_and_previous(question, context, grain, bounds, (metric.column,))
    text = (f"{metric.name.capitalize()} in {period_label(row['period_start'], grain)}:"
            f" {fmt(row[metric.column], metric.unit)}{detail(metric, row)}.")
    bullets = ()
    if before is not None:
        label = f"From {period_label(before['period_start'], grain)}"
        bullets = (moved(label, before[metric.column], row[metric.column], metric.unit),)
    rows = table.loc[[i for i in (getattr(before, "name", None), row.name) if i is not None]]
    return Answer(text, bullets, numbers_of(rows, metric),
                  notes=incomplete_note(row, grain, bounds))


def answer_why(question: Question, context: AskContext, bounds: DataBounds) -> Answer:
    metric = PERIOD_METRICS[question.metrics[0]]
    grain = question_grain(question, context)
    table, row, before = period_and_previous(question, context, grain, bounds, (metric.column,))
    if before is None:
        raise CannotAnswer(f"{capitalised(period_label(row['period_start'], grain))} is the first"
                           " period:"
                           " there is nothing before it to compare with.")
    old, new = before[metric.column], row[metric.column]
    then, now = (period_label(r["period_start"], grain) for r in (before, row))
    text = change_sentence(question, metric, old, new, then, now)
    bullets = tuple(
        moved(component_label(c).capitalize(), before[c], row[c], unit_of(c))
        for c in component_columns(metric)
    )
    if is_negligible(old, new):
        text += (f" A change of under {NEGLIGIBLE_CHANGE:.0%} is negligible: no driver is worth"
                 " naming.")
    else:
        driver = main_driver(metric, before, row)
        if driver:
            bullets += (driver,)
    return Answer(text, bullets, numbers_of(table.loc[[before.name, row.name]], metric),
                  notes=incomplete_note(row, grain, bounds))


# A move smaller than this share of the old value is noise, not something to explain.
NEGLIGIBLE_CHANGE = 0.01


def is_negligible(old, new) -> bool:
    if is_missing(old) or is_missing(new) or old == 0:
        return False
    return abs(new - old) < NEGLIGIBLE_CHANGE * abs(old)


def change_sentence(question, metric: Metric, old, new, then: str, now: str) -> str:
    name = metric.name.capitalize()
    if is_missing(old) or is_missing(new):
        return (f"{name} was {fmt(old, metric.unit)} in {then} and {fmt(new, metric.unit)} in"
                f" {now}, so its change cannot be measured; here is how its parts moved.")
    moved = "rose" if new > old else "fell" if new < old else "did not change"
    contrary = (question.direction == "drop" and new >= old) or (
        question.direction == "rise" and new <= old)
    lead = f"{name} did not {question.direction} in {now}: it" if contrary else name
    return (f"{lead} {moved} from {fmt(old, metric.unit)} in {then} to {fmt(new, metric.unit)}"
            f" in {now} ({fmt_change(old, new, metric.unit)}).")


def component_columns(metric: Metric) -> list[str]:
    columns = []
    for factor in (*metric.numerators, *metric.denominators):
        columns += [c for c in factor if c not in columns]
    return columns


def main_driver(metric: Metric, before: pd.Series, row: pd.Series) -> str | None:
    """Which factor moved the metric most: shares of the change in log(metric), so a ratio's
    numerator and denominator compare on one scale; within a sum, the part that moved most."""
    factors = [(f, 1) for f in metric.numerators] + [(f, -1) for f in metric.denominators]
    if not factors or (len(factors) == 1 and len(factors[0][0]) == 1):
        return None
    values = [(f, sign, sum(before[c] for c in f), sum(row[c] for c in f)) for f, sign in factors]
    if any(is_missing(a) or is_missing(b) or a <= 0 or b <= 0 for _, _, a, b in values):
        return None
    effects = [(sign * math.log(b / a), f, sign, a, b) for f, sign, a, b in values]
    total = sum(effect for effect, *_ in effects)
    if total == 0:
        return None
    _, factor, sign, a, b = max(effects, key=lambda item: item[0] * math.copysign(1, total))
    mostly = ""
    if len(factor) > 1:  # a sum: the part that moved most with the whole
        part = max(factor, key=lambda c: (row[c] - before[c]) * math.copysign(1, b - a))
        mostly = f"{component_label(part)} ({fmt_change(before[part], row[part], unit_of(part))})"
        if len(factors) == 1:
            return f"Most of the change: {mostly}."
        mostly = f", mostly {mostly}"
    label = " + ".join(component_label(c) for c in factor)
    side = ", in the denominator" if sign < 0 else ""
    return f"Main driver: {label} ({fmt_change(a, b, unit_of(factor[0]))}{side}){mostly}."


def answer_cohort(question: Question, context: AskContext, bounds: DataBounds) -> Answer:
    grain = question.grain or context.view.grain
    if question.period is None:
        raise CannotAnswer("Name the cohort, e.g. “after 3 months from the March cohort”.")
    cohort = resolve_period(question.period, grain, bounds)
    query = RetentionQuery(grain, cohort, cohort, context.view.segment)
    table = retention_table(context.backend, query)
    label = period_label(cohort, grain)
    if table.empty:
        raise CannotAnswer(f"No user's first active {grain.value} was {label}.")
    size = int(table["cohort_size"].iloc[0])
    k = question.periods_after
    if k is None:
        text = f"The {label} cohort had {size:,} users; its retention per {grain.value} is below."
        return Answer(text, numbers=table)
    cell = table[table["period_index"] == k]
    if cell.empty:
        raise CannotAnswer(f"The data ends before {k} {grain.value}s after {label}.")
    cell = cell.iloc[0]
    target = period_start(period_index(cohort, grain) + k, grain)
    text = (f"Of the {size:,} users whose first active {grain.value} was {label},"
            f" {int(cell['retained_users']):,} ({cell['retention_rate']:.1%}) were active"
            f" {k} {grain.value}{'s' if k != 1 else ''} later, in {period_label(target, grain)}.")
    notes = ()
    if not cell["is_complete"]:
        notes = (f"{capitalised(period_label(target, grain))} is still in progress, so this count"
                 " can grow.",)
    return Answer(text, numbers=table[table["period_index"] <= k].reset_index(drop=True),
                  notes=notes)


def revenue_range(question: Question, context: AskContext, bounds: DataBounds):
    if question.last:
        count, unit = question.last
        end = bounds.last_day
        if unit is Grain.MONTH:
            month = period_index(end, Grain.MONTH) - count
            same_day = min(end.day, period_end(month, Grain.MONTH).day)
            start = period_start(month, Grain.MONTH).replace(day=same_day) + dt.timedelta(days=1)
        else:
            start = end - dt.timedelta(days=count * (7 if unit is Grain.WEEK else 1) - 1)
        return start, end
    if question.period:
        grain = Grain.MONTH if question.period.month else context.view.grain
        start = resolve_period(question.period, grain, bounds)
        return start, period_end(period_index(start, grain), grain)
    return context.view.start or bounds.first_day, context.view.end or bounds.last_day


def answer_revenue_window(question: Question, context: AskContext, bounds) -> Answer:
    start, end = revenue_range(question, context, bounds)
    window = revenue_window(context.backend, start, end, context.view.segment)
    money = REVENUE["revenue"].unit
    text = (f"Revenue from {start:%d %b %Y} to {end:%d %b %Y}: {fmt(window.revenue, money)},"
            f" against {fmt(window.previous_revenue, money)} in the {window.days} days before"
            f" ({window.previous_start:%d %b} – {window.previous_end:%d %b %Y}):"
            f" {fmt_change(window.previous_revenue, window.revenue, money)}.")
    bullets = tuple(
        moved(metric.title, getattr(window, f"previous_{metric.column}"),
              getattr(window, metric.column), metric.unit)
        for metric in (REVENUE[column] for column in ("orders", "paying_users", "aov"))
    )
    notes = ()
    if window.days_with_data < window.days:
        notes = (f"The data ends on {bounds.last_day:%d %b %Y}: only {window.days_with_data} of"
                 f" the window's {window.days} days have data, so it is not a fair comparison.",)
    numbers = pd.DataFrame([
        {"window": "current", "start": window.start, "end": window.end,
         "revenue": window.revenue, "orders": window.orders, "paying_users": window.paying_users},
        {"window": "previous", "start": window.previous_start, "end": window.previous_end,
         "revenue": window.previous_revenue, "orders": window.previous_orders,
         "paying_users": window.previous_paying_users},
    ])
    return Answer(text, bullets, numbers, notes=notes)


def answer_experiment(question: Question, context: AskContext, bounds) -> Answer:
    names = experiment_names(context.backend, context.declared)
    name = question.experiment or context.experiment or (names[0] if len(names) == 1 else None)
    if name is None or name not in names:
        listed = ", ".join(names) or "none"
        raise CannotAnswer(f"Which experiment? Name one of: {listed}.")
    view = context.view
    query = ExperimentQuery(name, start=view.start, end=view.end, segment=view.segment)
    try:
        result = run_experiment(context.backend, query, context.declared)
    except ParameterError as error:
        raise CannotAnswer(str(error)) from None
    numbers = result.table[["variant", "is_control", "users", "converters", "conversion_rate",
                            "lift_rel", "p_value", "p_value_adjusted", "chance_to_beat_control"]]
    if result.has_srm:
        return Answer(f"No verdict for {name}: {srm_explanation(result)}", numbers=numbers,
                      notes=("Sample ratio mismatch: the verdict is withheld.",))
    return Answer(experiment_verdict(name, result), tuple(verdict_lines(result)), numbers)


def experiment_verdict(name: str, result) -> str:
    table = result.table
    treatments = table[~table["is_control"]]
    p_column = "p_value_adjusted" if len(table) > 2 else "p_value"
    significant = treatments[treatments[p_column].astype(float) < 0.05]
    winners = significant[significant["lift_rel"].astype(float) > 0]["variant"].tolist()
    losers = significant[significant["lift_rel"].astype(float) < 0]["variant"].tolist()
    if winners:
        return (f"Yes: in {name}, {' and '.join(winners)} beat{'s' if len(winners) == 1 else ''}"
                f" {result.control} significantly (95%).")
    if losers:
        return (f"No: in {name}, {' and '.join(losers)} did significantly worse than"
                f" {result.control}.")
    return (f"Not yet: in {name}, no treatment differs significantly from {result.control}"
            " (95%); keep the test running or accept there is no effect.")


ANSWERS = {
    "extreme": answer_extreme,
    "compare": answer_compare,
    "value": answer_value,
    "why": answer_why,
    "cohort": answer_cohort,
    "revenue_window": answer_revenue_window,
    "experiment": answer_experiment,
}
