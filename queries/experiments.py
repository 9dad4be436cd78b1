"""Experiments: users, converters and conversion rate per variant, with the statistics that say
whether a treatment wins (see queries/experiment_stats.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import pandas as pd

from queries import schema, sql_files
from queries.backends import Backend
from queries.errors import ParameterError, check_date_range
from queries.experiment_stats import (
    Arm,
    SampleRatio,
    compare_all,
    minimum_detectable_effect,
    sample_ratio_check,
)
from queries.filters import SegmentFilter
from queries.growth import filterable_columns
from queries.query_spec import Kind, QuerySpec, run_query

COLUMNS = [
    "variant", "is_control", "users", "converters", "conversion_rate", "lift_abs",
    "lift_abs_ci_low", "lift_abs_ci_high", "lift_rel", "lift_rel_ci_low", "lift_rel_ci_high",
    "p_value", "p_value_adjusted", "chance_to_beat_control", "srm_p_value", "excluded_users",
]
DEFAULT_CONVERSION_EVENT = "purchase"


@dataclass(frozen=True)
class DeclaredExperiment:
    """From configuration: expected weights, and for experiments without an assignments table,
    a salt and a start date for deterministic hashing."""

    name: str
    weights: dict[str, float] = field(default_factory=dict)
    salt: str | None = None
    start: dt.date | None = None

    @property
    def is_hashed(self) -> bool:
        return self.salt is not None

    def variant_of(self, user_id: str) -> str:
        """The same bucketing as the SQL (queries/dialect.py hash_bucket), for checks."""
        digest = hashlib.md5((self.salt + user_id).encode()).hexdigest()
        bucket = int(digest[:8], 16) / 2**32
        total, cumulative = sum(self.weights.values()), 0.0
        for variant, weight in self.weights.items():
            cumulative += weight / total
            if bucket < cumulative:
                return variant
        return list(self.weights)[-1]


@dataclass(frozen=True)
class ExperimentQuery:
    experiment: str
    conversion_event: str = DEFAULT_CONVERSION_EVENT
    control: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    window_days: float | None = None
    segment: SegmentFilter = field(default_factory=SegmentFilter)

    def __post_init__(self):
        check_date_range(self.start, self.end)
        if self.window_days is not None and self.window_days <= 0:
            raise ParameterError("the conversion window must be a positive number of days")


@dataclass(frozen=True)
class ExperimentView:
    """What the experiment's SQL reads: the request, and the experiment's declaration if any
    (a salt replaces the assignments table)."""

    query: ExperimentQuery
    declared: DeclaredExperiment | None = None


@dataclass(frozen=True)
class ExperimentResult:
    query: ExperimentQuery
    control: str
    table: pd.DataFrame  # one row per variant, COLUMNS
    daily: pd.DataFrame  # variant, day, users, converters (cumulative), conversion_rate
    sample_ratio: SampleRatio | None
    excluded_users: int
    mde: float | None  # smallest absolute lift detectable at the control's rate and size

    @property
    def has_srm(self) -> bool:
        return bool(self.sample_ratio and self.sample_ratio.mismatch)


def parse_declared(config: dict) -> dict[str, DeclaredExperiment]:
    """From {"name": {"variants": {"control": 50, "treatment": 50}, "salt": "s",
    "start": "YYYY-MM-DD"}}; salt and start only for experiments without assignment rows."""
    declared = {}
    for name, spec in (config or {}).items():
        weights = {str(k): float(v) for k, v in (spec.get("variants") or {}).items()}
        if any(weight <= 0 for weight in weights.values()):
            raise ParameterError(f"experiment {name!r}: variant weights must be positive")
        start = spec.get("start")
        declared[name] = DeclaredExperiment(
            name, weights, spec.get("salt"), dt.date.fromisoformat(start) if start else None
        )
    return declared


def experiment_names_sql(backend: Backend, view: None, bounds: None) -> tuple[str, dict]:
    sql = sql_files.render("experiment_names", assignments=backend.relation(schema.ASSIGNMENTS))
    return sql, {}


EXPERIMENT_NAMES_SPEC = QuerySpec(
    name="experiment_names", view=None, render=experiment_names_sql,
    columns={"experiment": Kind.TEXT, "users": Kind.COUNT},
)


def experiment_names(backend: Backend, declared: dict[str, DeclaredExperiment]) -> list[str]:
    frame = run_query(backend, EXPERIMENT_NAMES_SPEC)
    names = set(frame["experiment"]) | {n for n, d in declared.items() if d.is_hashed}
    return sorted(names)


def hashed_assignments_sql(backend: Backend, declared: DeclaredExperiment) -> tuple[str, dict]:
    if not declared.weights:
        raise ParameterError(f"experiment {declared.name!r} declares no variant weights")
    dialect = backend.dialect
    bucket = dialect.hash_bucket("$hash_salt", "user_id")
    total, cumulative, cases, params = sum(declared.weights.values()), 0.0, [], {}
    for position, (variant, weight) in enumerate(declared.weights.items()):
        cumulative += weight / total
        params[f"variant_{position}"] = variant
        params[f"bucket_below_{position}"] = cumulative
        cases.append(f"when {bucket} < $bucket_below_{position} then $variant_{position}")
    cases.append(f"else $variant_{len(declared.weights) - 1}")
    sql = sql_files.render(
        "hashed_assignments",
        events=backend.relation(schema.EVENTS),
        variant_cases="\n        ".join(cases),
    )
    start = dt.datetime.combine(declared.start or dt.date(1970, 1, 1), dt.time())
    return sql, params | {"hash_salt": declared.salt, "hash_start": start}


def eligible_users_sql(backend: Backend, query: ExperimentQuery,
                       declared: DeclaredExperiment | None) -> tuple[str, str, dict]:
    """The CTEs of the experiment's eligible users (experiment_eligible.sql), the segment's
    condition on events, and their parameters: what every experiment query starts from."""
    if declared and declared.is_hashed:
        assignments, params = hashed_assignments_sql(backend, declared)
    else:
        assignments = (
            "select experiment, user_id, variant, assigned_at"
            f" from {backend.relation(schema.ASSIGNMENTS)}"
        )
        params = {}
    segment_sql, segment_params = query.segment.to_sql(backend.dialect,
                                                       filterable_columns(backend))
    segment_users = "TRUE"
    if query.segment.selects:
        segment_users = (
            f"user_id in (select user_id from {backend.relation(schema.EVENTS)}"
            f" where {segment_sql})"
        )
    sql = sql_files.template("experiment_eligible").format(
        assignments=assignments, segment_users=segment_users).rstrip()
    return sql, segment_sql, params | segment_params | {
        "experiment": query.experiment,
        "start_time": dt.datetime.combine(query.start, dt.time()) if query.start else None,
        "end_time": (
            dt.datetime.combine(query.end + dt.timedelta(days=1), dt.time()) if query.end else None
        ),
    }


def experiment_sql(backend: Backend, view: ExperimentView, bounds: None) -> tuple[str, dict]:
    query, dialect = view.query, backend.dialect
    eligible, segment_sql, params = eligible_users_sql(backend, query, view.declared)
    sql = sql_files.render(
        "experiment",
        eligible_users=eligible,
        events=backend.relation(schema.EVENTS),
        segment_filter=segment_sql,
        window_end=dialect.add_seconds("eligible.assigned_at", "window_seconds"),
    )
    params |= {
        "conversion_event": query.conversion_event,
        "window_seconds": round(query.window_days * 86400) if query.window_days else None,
    }
    return dialect.bind_parameters(sql), params


EXPERIMENT_SPEC = QuerySpec(
    name="experiment", view=ExperimentView, render=experiment_sql,
    columns={"variant": Kind.TEXT, "day": Kind.DATE, "kind": Kind.TEXT, "users": Kind.COUNT},
    parameters=(
        "experiment", "conversion_event", "start_time", "end_time", "window_seconds",
        "filter_*", "hash_salt", "hash_start", "variant_*", "bucket_below_*",
    ),
    includes=("experiment_eligible", "hashed_assignments"),
)


def choose_control(variants: list[str], requested: str | None) -> str:
    """`control`, else `A`, else the first alphabetically, unless one is asked for."""
    if requested:
        if requested not in variants:
            raise ParameterError(
                f"control {requested!r} is not a variant: choose one of {', '.join(variants)}"
            )
        return requested
    for name in ("control", "A"):
        if name in variants:
            return name
    return sorted(variants)[0]


def run_experiment(
    backend: Backend, query: ExperimentQuery,
    declared: dict[str, DeclaredExperiment] | None = None,
) -> ExperimentResult:
    return experiment_result(backend, ExperimentView(query, (declared or {}).get(query.experiment)))


def experiment_result(backend: Backend, view: ExperimentView) -> ExperimentResult:
    query, declared_experiment = view.query, view.declared
    counts = run_query(backend, EXPERIMENT_SPEC, view)
    excluded = int(counts.loc[counts["kind"] == "excluded", "users"].sum())
    arms = arms_from_counts(counts)
    if not arms:
        raise ParameterError(
            f"experiment {query.experiment!r} has no users in this date range and segment"
        )
    control = choose_control([arm.name for arm in arms], query.control)
    weights = declared_experiment.weights if declared_experiment else None
    sample_ratio = sample_ratio_check({arm.name: arm.users for arm in arms}, weights or None)
    table = results_table(arms, control, sample_ratio, excluded)
    control_arm = next(arm for arm in arms if arm.name == control)
    mde = (
        minimum_detectable_effect(control_arm.rate, control_arm.users)
        if control_arm.rate is not None else None
    )
    return ExperimentResult(
        query, control, table, cumulative_daily(counts), sample_ratio, excluded, mde
    )


def arms_from_counts(counts: pd.DataFrame) -> list[Arm]:
    by_kind = counts[counts["kind"] != "excluded"].groupby(["variant", "kind"])["users"].sum()
    variants = sorted({variant for variant, _ in by_kind.index})
    return [
        Arm(variant, int(by_kind.get((variant, "assigned"), 0)),
            int(by_kind.get((variant, "converted"), 0)))
        for variant in variants
    ]


def results_table(arms: list[Arm], control: str, sample_ratio, excluded: int) -> pd.DataFrame:
    control_arm = next(arm for arm in arms if arm.name == control)
    treatments = [arm for arm in arms if arm.name != control]
    comparisons = {c.variant: c for c in compare_all(control_arm, treatments)}
    rows = []
    for arm in [control_arm, *treatments]:
        comparison = comparisons.get(arm.name)
        row = {"variant": arm.name, "is_control": arm.name == control, "users": arm.users,
               "converters": arm.converters, "conversion_rate": arm.rate}
        for column in COLUMNS[5:14]:
            row[column] = getattr(comparison, column) if comparison else None
        row["srm_p_value"] = sample_ratio.p_value if sample_ratio else None
        row["excluded_users"] = excluded
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def cumulative_daily(counts: pd.DataFrame) -> pd.DataFrame:
    """Per variant and day: users assigned so far, converters so far, and their ratio."""
    dated = counts[(counts["kind"] != "excluded") & counts["day"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=["variant", "day", "users", "converters", "conversion_rate"])
    pivot = dated.pivot_table(
        index=["variant", "day"], columns="kind", values="users", aggfunc="sum", fill_value=0
    ).reindex(columns=["assigned", "converted"], fill_value=0)
    cumulative = pivot.groupby(level="variant").cumsum().reset_index()
    cumulative = cumulative.rename(columns={"assigned": "users", "converted": "converters"})
    cumulative["conversion_rate"] = cumulative["converters"] / cumulative["users"].where(
        cumulative["users"] > 0
    )
    return cumulative[["variant", "day", "users", "converters", "conversion_rate"]]


ENGINES = ("bayesian", "frequentist")
# One sentence each, shown with the other engine's lines.
ENGINE_EXPLANATIONS = {
    "bayesian": "The chance to beat control is the probability, given this data and a flat"
                " prior, that the variant's true conversion rate is above the control's.",
    "frequentist": "The p-value is how often a difference at least this large would appear if"
                   " the variant changed nothing; below 0.05 counts as significant. It answers"
                   " a different question from the chance to beat control, so the two can seem"
                   " to disagree.",
}
ENGINE_TITLES = {"bayesian": "Bayesian: chance to beat control",
                 "frequentist": "Frequentist: p-values"}


def verdict_lines(result: ExperimentResult, engine: str = "bayesian") -> list[str]:
    """One plain-language sentence per treatment, in one engine's terms: "B converts 9.0%
    better than A; 97% chance to beat control" (Bayesian), or "...; p = 0.01" (frequentist).
    Empty when the sample ratio is off: no verdict then."""
    if result.has_srm:
        return []
    lines = []
    for row in result.table[~result.table["is_control"]].itertuples(index=False):
        if row.lift_rel is None or pd.isna(row.lift_rel):
            lines.append(f"{row.variant}: no verdict, the control's conversion rate is 0.")
            continue
        direction = "better" if row.lift_rel >= 0 else "worse"
        evidence = (bayesian_evidence(row.chance_to_beat_control) if engine == "bayesian"
                    else frequentist_evidence(row, several=len(result.table) > 2))
        lines.append(f"{row.variant} converts {abs(row.lift_rel):.1%} {direction} than"
                     f" {result.control}; {evidence}")
    return lines


def bayesian_evidence(chance: float) -> str:
    text = f"{format_chance(chance)} chance to beat control"
    if 0.05 < chance < 0.95:
        text += " (not conclusive: 95% either way is the usual bar)"
    return text


def frequentist_evidence(row, several: bool) -> str:
    p_value = row.p_value_adjusted if several else row.p_value
    if p_value is None or pd.isna(p_value):
        return "no p-value (no variance: every user or nobody converted)"
    significance = "" if p_value < 0.05 else " (not significant at 95%)"
    adjusted = " (Holm-adjusted)" if several else ""
    return f"p = {format_p(p_value)}{adjusted}{significance}"


def format_chance(chance: float) -> str:
    """Never round a near-certainty up to a certainty."""
    if chance > 0.99:
        return ">99%"
    if chance < 0.01:
        return "<1%"
    return f"{chance:.0%}"


def format_p(p_value: float) -> str:
    return f"{p_value:.2g}" if p_value >= 0.001 else f"{p_value:.1e}"


def srm_explanation(result: ExperimentResult) -> str | None:
    ratio = result.sample_ratio
    if not result.has_srm:
        return None
    observed = ", ".join(f"{name} {users:,}" for name, users in ratio.observed.items())
    total = sum(ratio.observed.values())
    expected = ", ".join(f"{name} {share / total:.0%}" for name, share in ratio.expected.items())
    return (
        f"Sample ratio mismatch: users split {observed}, against an expected {expected}"
        f" (chi-square {ratio.chi_square:.1f}, p = {format_p(ratio.p_value)}). Assignment or"
        " tracking is broken for at least one variant, so these results are not trustworthy:"
        " the verdict is withheld until the cause is fixed."
    )
