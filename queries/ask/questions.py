"""Reads a question in plain English into what the built-in analyst should compute.

Deterministic and small on purpose: a question is matched against the kinds the analyst knows
(see KINDS); anything else gets the list of what it can answer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from queries.metrics import GROWTH
from queries.periods import Grain


def from_revenue_table(column: str) -> bool:
    """Where a metric the question names is read: active users come from the growth table."""
    return column not in GROWTH


# Longest phrases first, so "churn rate" is not read as "churned users".
METRIC_WORDS = (
    (r"quick[ -]?ratio", "quick_ratio"),
    (r"churn(?:ed)?[ -]rate|churn(?!ed|ers?\b)", "churn_rate"),
    (r"retention(?: rate)?", "retention_rate"),
    (r"churned(?: users)?|churners?", "churned_users"),
    (r"retained(?: users)?", "retained_users"),
    (r"resurrected(?: users)?|resurrections?|reactivated(?: users)?", "resurrected_users"),
    (r"new(?: users)?|sign[ -]?ups?", "new_users"),
    (r"active(?: users)?|\b[dwm]au\b", "active_users"),
    (r"paying(?: users)?|payers|customers", "paying_users"),
    (r"aov|average order value|order value", "aov"),
    (r"arpu|revenue per (?:active )?user", "arpu"),
    (r"orders?|purchases", "orders"),
    (r"revenue|sales|income", "revenue"),
)
METRIC_PATTERN = re.compile(
    "|".join(f"(?P<m{n}>\\b(?:{words}))" for n, (words, _) in enumerate(METRIC_WORDS)),
    re.IGNORECASE,
)

MONTHS = {
    name: number
    for number, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")),
        start=1,
    )
    for name in names
}
# "may" is a month only where a month can stand, not in "may I ask".
MONTH_PATTERN = re.compile(
    r"\b(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?"
    r"(?:\s+(?P<year>\d{4}))?",
    re.IGNORECASE,
)
MONTH_CONTEXT = {"in", "of", "from", "for", "the", "during", "since", "and", "vs", "to", "between",
                 "than", "until", "before", "after"}
DATE_PATTERN = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
GRAIN_WORDS = (
    (re.compile(r"\b(?:day|days|daily)\b", re.IGNORECASE), Grain.DAY),
    (re.compile(r"\b(?:week|weeks|weekly)\b", re.IGNORECASE), Grain.WEEK),
    (re.compile(r"\b(?:month|months|monthly)\b", re.IGNORECASE), Grain.MONTH),
)
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
NUMBER = r"(\d+|" + "|".join(NUMBER_WORDS) + ")"
AFTER_PATTERN = re.compile(rf"\b(?:after|in)\s+{NUMBER}\s+(day|week|month)s?\b", re.IGNORECASE)
LAST_PATTERN = re.compile(rf"\b(?:last|past|latest)\s+{NUMBER}\s+(day|week|month)s?\b",
                          re.IGNORECASE)
HIGHEST = re.compile(r"\b(?:highest|most|best|max(?:imum)?|peak|biggest|largest|top|record)\b",
                     re.IGNORECASE)
LOWEST = re.compile(r"\b(?:lowest|fewest|least|worst|min(?:imum)?|smallest|bottom)\b",
                    re.IGNORECASE)
WHY = re.compile(r"^\s*why\b|\bwhat (?:drove|caused|explains)\b|\bexplain\b|\bdrivers?\b",
                 re.IGNORECASE)
DROP = re.compile(r"\b(?:drop|dropped|fall|fell|decline|declined|decrease|decreased|go down"
                  r"|went down|worse)\b", re.IGNORECASE)
RISE = re.compile(r"\b(?:rise|rose|grow|grew|increase|increased|jump|jumped|go up|went up"
                  r"|improve|improved|better)\b", re.IGNORECASE)
COMPARE = re.compile(r"\b(?:compare|compared|vs\.?|versus|against|and)\b", re.IGNORECASE)
PREVIOUS = re.compile(r"\b(?:previous|prior|before|preceding|window)\b", re.IGNORECASE)
COHORT = re.compile(r"\bcohort\b", re.IGNORECASE)
EXPERIMENT = re.compile(
    r"\b(?:experiments?|variants?|treatment|a/b|ab test|win|wins|winning|winner|beat|beats)\b",
    re.IGNORECASE,
)
INCOMPLETE = re.compile(r"\b(?:incomplete|in progress|so far|current|including)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PeriodRef:
    """A period named in the question: a month (year optional) or a day."""

    month: int | None = None
    year: int | None = None
    day: dt.date | None = None


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # one of KINDS
    metrics: tuple[str, ...] = ()
    grain: Grain | None = None  # named by the question; None: the view's
    period: PeriodRef | None = None
    extreme: str | None = None  # highest or lowest
    include_incomplete: bool = False
    periods_after: int | None = None
    last: tuple[int, Grain] | None = None  # "last 28 days"
    direction: str | None = None  # drop or rise, for "why"
    experiment: str | None = None


KINDS = ("extreme", "compare", "why", "cohort", "revenue_window", "experiment", "value", "unknown")


def number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text.lower()]


def metrics_in(text: str) -> tuple[str, ...]:
    found = []
    for match in METRIC_PATTERN.finditer(text):
        column = METRIC_WORDS[int(match.lastgroup[1:])][1]
        if column not in found:
            found.append(column)
    return tuple(found)


def period_in(text: str) -> PeriodRef | None:
    date = DATE_PATTERN.search(text)
    if date:
        return PeriodRef(day=dt.date.fromisoformat(date.group(1)))
    for match in MONTH_PATTERN.finditer(text):
        name = match.group("month")
        preceded = (text[: match.start()].lower().split() or [""])[-1]
        is_modal_may = (
            name.lower() == "may" and not match.group("year") and preceded not in MONTH_CONTEXT
        )
        if is_modal_may:
            continue
        year = match.group("year")
        return PeriodRef(month=MONTHS[name.lower()], year=int(year) if year else None)
    return None


def grain_in(text: str) -> Grain | None:
    for pattern, grain in GRAIN_WORDS:
        if pattern.search(text):
            return grain
    return None


def experiment_in(text: str, experiments: list[str]) -> str | None:
    lowered = text.lower()
    for name in sorted(experiments, key=len, reverse=True):
        if name.lower() in lowered or name.lower().replace("_", " ") in lowered:
            return name
    return None


def parse(text: str, experiments: list[str] = ()) -> Question:
    metrics = metrics_in(text)
    base = {"text": text, "metrics": metrics, "grain": grain_in(text), "period": period_in(text),
            "include_incomplete": bool(INCOMPLETE.search(text))}
    experiment = experiment_in(text, list(experiments))
    after, last = AFTER_PATTERN.search(text), LAST_PATTERN.search(text)
    if last:
        base["last"] = (number(last.group(1)), Grain(last.group(2).lower()))
    if experiment or EXPERIMENT.search(text):
        return Question(kind="experiment", experiment=experiment, **base)
    if COHORT.search(text) and (after or "retain" in text.lower()):
        base["grain"] = Grain(after.group(2).lower()) if after else base["grain"]
        return Question(kind="cohort", periods_after=number(after.group(1)) if after else None,
                        **base)
    if WHY.search(text) and metrics:
        direction = "drop" if DROP.search(text) else "rise" if RISE.search(text) else None
        return Question(kind="why", direction=direction, **base)
    extreme = "highest" if HIGHEST.search(text) else "lowest" if LOWEST.search(text) else None
    if extreme and metrics:
        return Question(kind="extreme", extreme=extreme, **base)
    is_window = PREVIOUS.search(text) or last
    if len(metrics) == 1 and from_revenue_table(metrics[0]) and is_window:
        return Question(kind="revenue_window", **base)
    if len(metrics) >= 2 and COMPARE.search(text):
        return Question(kind="compare", **base)
    if metrics:
        return Question(kind="value", **base)
    return Question(kind="unknown", **base)


EXAMPLES = (
    ("the period with the highest or lowest value of a metric",
     "What month had the highest churn rate?"),
    ("two metrics side by side in a period", "Compare new users vs resurrected users in April."),
    ("why a metric changed from the period before, component by component",
     "Why did quick ratio drop in May?"),
    ("retention of a cohort after N periods",
     "How many users were retained after 3 months from the March cohort?"),
    ("revenue in a window against the window before",
     "How did revenue in the last 28 days compare with the previous 28 days?"),
    ("whether an experiment's treatment wins", "Does the treatment win in the experiment?"),
)
