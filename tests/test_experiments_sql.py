"""Experiment SQL and results (queries/experiments.py) on small hand-made logs; users and
converters per variant are derived by hand in the comments, and every statistic is recomputed
here with independent formulas (scipy's chi-square contingency test for the p-value, Evan
Miller's closed-form sum for the chance to beat control, Holm written out step by step).

Definitions (from the issue): a user belongs to the variant of their assignment row (several
rows for one variant count once, at the earliest assigned_at); a user with more than one
variant in the experiment is excluded and counted. A user converts with at least one event of
the conversion event type (default purchase) at or after assigned_at (any time when
assigned_at is empty), within --window-days of assigned_at when given. --start/--end select
users by assigned_at (whole UTC days). Control: `control`, else `A`, else the first variant
alphabetically, unless one is asked for. Declared experiments without assignment rows are
hashed: md5(salt || user_id) into weighted buckets, for users active on or after the declared
start, assigned at their first event from then on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import Counter, defaultdict

import pandas as pd
import pyarrow as pa
import pytest
from scipy import special, stats

from queries.backends import DuckDBBackend
from queries.errors import ParameterError
from queries.experiments import (
    COLUMNS,
    ExperimentQuery,
    hashed_assignments_sql,
    parse_declared,
    run_experiment,
    srm_explanation,
    verdict_lines,
)
from queries.filters import FilterError, SegmentFilter

D = dt.date
T = dt.datetime
Z_95 = float(stats.norm.ppf(0.975))
STAT_COLUMNS = COLUMNS[5:14]  # lift_abs .. chance_to_beat_control


# --- building logs ------------------------------------------------------------------------------


def assignments_table(rows: list[tuple]) -> pa.Table:
    """Rows are (experiment, user_id, variant, assigned_at as ISO text, datetime or None)."""
    columns = {"experiment": [], "user_id": [], "variant": [], "assigned_at": []}
    for experiment, user, variant, when in rows:
        columns["experiment"].append(experiment)
        columns["user_id"].append(user)
        columns["variant"].append(variant)
        columns["assigned_at"].append(
            dt.datetime.fromisoformat(when) if isinstance(when, str) else when
        )
    schema = pa.schema([
        ("experiment", pa.string()), ("user_id", pa.string()), ("variant", pa.string()),
        ("assigned_at", pa.timestamp("us")),
    ])
    return pa.table(columns, schema=schema)


BULK_ASSIGNED_AT = T(2024, 1, 1, 12)


def bulk(experiment: str, arms: dict[str, tuple[int, int]], when=BULK_ASSIGNED_AT):
    """`users` users per variant, the first `converters` of whom purchase an hour after being
    assigned: (assignment rows, event rows)."""
    assignment_rows, event_rows = [], []
    for variant, (users, converters) in arms.items():
        for index in range(users):
            user = f"{experiment}-{variant}-{index}"
            assignment_rows.append((experiment, user, variant, when))
            if index < converters:
                event_rows.append((when + dt.timedelta(hours=1), user, "purchase"))
    return assignment_rows, event_rows


# --- reading results ----------------------------------------------------------------------------


def plain(value):
    value = value.item() if hasattr(value, "item") else value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def run(path, experiment: str, declared=None, **options):
    return run_experiment(DuckDBBackend(path), ExperimentQuery(experiment, **options), declared)


def table_rows(result) -> list[dict]:
    assert list(result.table.columns) == COLUMNS
    return [
        {column: plain(value) for column, value in zip(COLUMNS, row, strict=True)}
        for row in result.table.itertuples(index=False)
    ]


def counts(result) -> list[tuple]:
    """(variant, is_control, users, converters, conversion_rate) per row, in table order."""
    return [
        (r["variant"], r["is_control"], r["users"], r["converters"], r["conversion_rate"])
        for r in table_rows(result)
    ]


# --- independent statistics ---------------------------------------------------------------------


def miller_chance(control: tuple[int, int], treatment: tuple[int, int]) -> float:
    """P(p_t > p_c) for Beta(1 + conv, 1 + nonconv) posteriors by Evan Miller's exact sum
    (2015): sum over i < a_t of B(a_c + i, b_c + b_t) / ((b_t + i) B(1 + i, b_t) B(a_c, b_c))."""
    (n_c, x_c), (n_t, x_t) = control, treatment
    a_c, b_c, a_t, b_t = 1 + x_c, 1 + n_c - x_c, 1 + x_t, 1 + n_t - x_t
    return math.fsum(
        math.exp(
            special.betaln(a_c + i, b_c + b_t) - math.log(b_t + i)
            - special.betaln(1 + i, b_t) - special.betaln(a_c, b_c)
        )
        for i in range(a_t)
    )


def pearson_p(control: tuple[int, int], treatment: tuple[int, int]) -> float | None:
    """The pooled two-proportion z-test equals Pearson's chi-square on the 2x2 table without
    continuity correction; undefined when nobody (or everybody) converts in both arms."""
    (n_c, x_c), (n_t, x_t) = control, treatment
    if x_c + x_t in (0, n_c + n_t):
        return None
    table = [[x_c, n_c - x_c], [x_t, n_t - x_t]]
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down, written as: adjusted p_i = max over every p_j <= p_i of
    min(1, (m - rank_j) * p_j), rank_j the 0-based position of p_j in ascending order."""
    m = len(p_values)
    ranked = sorted(p_values)
    return [
        max(min(1.0, (m - rank) * p) for rank, p in enumerate(ranked) if p <= p_i)
        for p_i in p_values
    ]


def expected_stats(control: tuple[int, int], treatment: tuple[int, int]) -> dict:
    """(users, converters) per arm -> the nine comparison columns, None where undefined (a
    Wald interval of zero width is reported without bounds)."""
    (n_c, x_c), (n_t, x_t) = control, treatment
    p_c, p_t = x_c / n_c, x_t / n_t
    var_c, var_t = p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t
    lift_abs, se_abs = p_t - p_c, math.sqrt(var_c + var_t)
    out = {"lift_abs": lift_abs, "lift_abs_ci_low": None, "lift_abs_ci_high": None}
    if se_abs > 0:
        out |= {"lift_abs_ci_low": lift_abs - Z_95 * se_abs,
                "lift_abs_ci_high": lift_abs + Z_95 * se_abs}
    out |= {"lift_rel": None, "lift_rel_ci_low": None, "lift_rel_ci_high": None}
    if p_c > 0:
        ratio = p_t / p_c
        # Delta method in the relative-variance form: se(R) = R·sqrt(cv_t² + cv_c²).
        se_rel = ratio * math.sqrt(var_t / p_t**2 + var_c / p_c**2) if p_t > 0 else 0.0
        out["lift_rel"] = ratio - 1
        if se_rel > 0:
            out |= {"lift_rel_ci_low": ratio - 1 - Z_95 * se_rel,
                    "lift_rel_ci_high": ratio - 1 + Z_95 * se_rel}
    p_value = pearson_p(control, treatment)
    out |= {"p_value": p_value, "p_value_adjusted": p_value,
            "chance_to_beat_control": miller_chance(control, treatment)}
    return out


def approx(value):
    return value if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)


def check_stats(row: dict, expected: dict) -> None:
    for column in STAT_COLUMNS:
        assert row[column] == approx(expected[column]), column


def check_control_row(row: dict) -> None:
    assert row["is_control"] is True
    assert all(row[column] is None for column in STAT_COLUMNS)


# --- conversions relative to assignment ---------------------------------------------------------


def test_conversion_timing_relative_to_assignment(make_db):
    assignments = assignments_table([
        ("timing", "c1", "control", "2024-01-01 10:00:00"),
        ("timing", "c2", "control", "2024-01-01 10:00:00"),
        ("timing", "c3", "control", "2024-01-01 10:00:00"),
        ("timing", "c4", "control", "2024-01-01 12:00:00"),
        ("timing", "t1", "treatment", None),
        ("timing", "t2", "treatment", None),
        ("timing", "t3", "treatment", "2024-01-02 00:00:00"),
    ])
    path = make_db([
        # c1 purchases one second before assignment: not a converter.
        ("2024-01-01 09:59:59", "c1", "purchase", 5.0),
        # c2 purchases exactly at assigned_at: a converter.
        ("2024-01-01 10:00:00", "c2", "purchase", 5.0),
        # c3 before and after: a converter (once).
        ("2024-01-01 08:00:00", "c3", "purchase", 5.0),
        ("2024-01-01 11:00:00", "c3", "purchase", 5.0),
        # c4 two purchases after: one converter.
        ("2024-01-02 08:00:00", "c4", "purchase", 5.0),
        ("2024-01-03 08:00:00", "c4", "purchase", 5.0),
        # t1 has no assigned_at: a purchase long before anyone's assignment still counts.
        ("2023-06-01 00:00:00", "t1", "purchase", 5.0),
        # t2 no assigned_at and no purchase; t3 purchases the day before assignment.
        ("2024-01-05 00:00:00", "t2", "session"),
        ("2024-01-01 23:59:59", "t3", "purchase", 5.0),
    ], assignments=assignments)
    result = run(path, "timing")
    # control: c1..c4 = 4 users, converters c2, c3, c4 = 3. treatment: t1..t3 = 3, t1 only.
    assert counts(result) == [
        ("control", True, 4, 3, 0.75),
        ("treatment", False, 3, 1, 1 / 3),
    ]
    rows = table_rows(result)
    check_control_row(rows[0])
    check_stats(rows[1], expected_stats((4, 3), (3, 1)))
    assert result.excluded_users == 0
    assert {r["excluded_users"] for r in rows} == {0}


def test_users_in_several_variants_are_excluded_and_counted(make_db):
    assignments = assignments_table([
        # u1 in A and B; u3 in A, B and C: both excluded.
        ("multi", "u1", "A", "2024-01-01 10:00:00"),
        ("multi", "u1", "B", "2024-01-01 11:00:00"),
        ("multi", "u3", "A", "2024-01-01 10:00:00"),
        ("multi", "u3", "B", "2024-01-01 10:00:00"),
        ("multi", "u3", "C", "2024-01-01 10:00:00"),
        # u2 assigned to A twice: one A user, assigned at the earlier time.
        ("multi", "u2", "A", "2024-01-01 10:00:00"),
        ("multi", "u2", "A", "2024-01-03 10:00:00"),
        # u4 in B; u5 in B here and in A in another experiment: not excluded here.
        ("multi", "u4", "B", "2024-01-01 10:00:00"),
        ("multi", "u5", "B", "2024-01-01 10:00:00"),
        ("other", "u5", "A", "2024-01-01 10:00:00"),
    ])
    path = make_db([
        ("2024-01-02 10:00:00", "u1", "purchase", 1.0),
        ("2024-01-02 10:00:00", "u3", "purchase", 1.0),
        # Between u2's two assignments: after the earlier one, so a conversion.
        ("2024-01-02 10:00:00", "u2", "purchase", 1.0),
        ("2024-01-02 10:00:00", "u5", "purchase", 1.0),
    ], assignments=assignments)
    result = run(path, "multi")
    # A: u2 (1 user, converts). B: u4, u5 (2 users, u5 converts). u1, u3 in neither.
    assert counts(result) == [("A", True, 1, 1, 1.0), ("B", False, 2, 1, 0.5)]
    assert result.excluded_users == 2
    assert [r["excluded_users"] for r in table_rows(result)] == [2, 2]
    # The other experiment keeps u5 as its one A user.
    assert counts(run(path, "other")) == [("A", True, 1, 1, 1.0)]


# --- statistics ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stats_db(tmp_path_factory):
    """Experiments of made-up size, each arm (users, converters) as declared in ARMS."""
    from app.storage import Source, load
    from tests.conftest import events_table

    assignment_rows, event_rows = [], []
    for experiment, arms in ARMS.items():
        more_assignments, more_events = bulk(experiment, arms)
        assignment_rows += more_assignments
        event_rows += more_events
    path = tmp_path_factory.mktemp("experiment_stats") / "stats.duckdb"
    load(path, Source("events", table=events_table(event_rows)),
         Source("assignments", table=assignments_table(assignment_rows)))
    return path


ARMS = {
    "zero_treatment": {"A": (10, 4), "B": (10, 0)},
    "zero_control": {"A": (10, 0), "B": (10, 3)},
    "nobody": {"A": (10, 0), "B": (10, 0)},
    "three": {"control": (200, 20), "B": (200, 35), "C": (200, 24)},
    "four": {"control": (300, 30), "B": (300, 48), "C": (300, 33), "D": (300, 21)},
    "verdict": {"A": (10000, 1000), "B": (10000, 1090)},
    "verdict_three": {"A": (2000, 200), "B": (2000, 150), "C": (2000, 205)},
    "srm": {"control": (600, 60), "treatment": (400, 50)},
    "weighted": {"control": (900, 90), "treatment": (100, 15)},
}


def test_treatment_without_conversions(stats_db):
    result = run(stats_db, "zero_treatment")
    assert counts(result) == [("A", True, 10, 4, 0.4), ("B", False, 10, 0, 0.0)]
    control, treatment = table_rows(result)
    check_control_row(control)
    expected = expected_stats((10, 4), (10, 0))
    # By hand: lift_abs = -0.4 ± 1.96·sqrt(0.024); lift_rel = -1 with no interval (the
    # treatment rate is 0, so the delta-method variance is 0); pooled p = 0.2:
    # z = -0.4 / sqrt(0.2·0.8·0.2) = -2.236, p = 0.0253.
    assert expected["lift_rel"] == -1.0 and expected["lift_rel_ci_low"] is None
    assert expected["p_value"] == pytest.approx(0.025347, abs=1e-6)
    check_stats(treatment, expected)
    # P(Beta(1, 11) > Beta(5, 7)) by Miller's sum: about 2%.
    assert verdict_lines(result) == ["B converts 100.0% worse than A; 2% chance to beat control"]
    assert verdict_lines(result, "frequentist") == ["B converts 100.0% worse than A; p = 0.025"]


def test_control_without_conversions_has_no_relative_lift(stats_db):
    result = run(stats_db, "zero_control")
    assert counts(result) == [("A", True, 10, 0, 0.0), ("B", False, 10, 3, 0.3)]
    treatment = table_rows(result)[1]
    check_stats(treatment, expected_stats((10, 0), (10, 3)))
    assert treatment["lift_rel"] is None and treatment["lift_abs"] == pytest.approx(0.3)
    assert verdict_lines(result) == ["B: no verdict, the control's conversion rate is 0."]


def test_nobody_converts(stats_db):
    result = run(stats_db, "nobody")
    assert counts(result) == [("A", True, 10, 0, 0.0), ("B", False, 10, 0, 0.0)]
    treatment = table_rows(result)[1]
    # lift_abs 0 without an interval, no relative lift, no p-value; equal posteriors: 1/2.
    check_stats(treatment, expected_stats((10, 0), (10, 0)))
    assert treatment["p_value"] is None
    assert treatment["chance_to_beat_control"] == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("experiment", ["three", "four"])
def test_several_treatments_are_holm_adjusted(stats_db, experiment):
    arms = ARMS[experiment]
    result = run(stats_db, experiment)
    control = arms["control"]
    treatments = [name for name in arms if name != "control"]
    assert counts(result) == [
        (name, name == "control", users, converters, converters / users)
        for name, (users, converters) in arms.items()
    ]
    rows = table_rows(result)
    check_control_row(rows[0])
    raw = [pearson_p(control, arms[name]) for name in treatments]
    adjusted = holm(raw)
    for row, name, p_raw, p_adjusted in zip(rows[1:], treatments, raw, adjusted, strict=True):
        expected = expected_stats(control, arms[name]) | {"p_value_adjusted": p_adjusted}
        assert row["p_value"] == approx(p_raw)
        check_stats(row, expected)
    # Holm never lowers a p-value, and the smallest is multiplied by the number of treatments.
    assert min(adjusted) == pytest.approx(len(treatments) * min(raw), rel=1e-9)
    assert all(a >= p for a, p in zip(adjusted, raw, strict=True))


def test_srm_600_vs_400(stats_db):
    result = run(stats_db, "srm")
    # Equal weights: chi-square = 2 · 100² / 500 = 40 on 1 degree of freedom.
    srm_p = stats.chi2.sf(40, 1)
    assert srm_p == pytest.approx(2.54e-10, rel=1e-2)
    assert [r["srm_p_value"] for r in table_rows(result)] == [approx(srm_p)] * 2
    assert result.sample_ratio.p_value == approx(srm_p)
    assert result.has_srm is True
    assert verdict_lines(result) == []
    explanation = srm_explanation(result)
    assert "control 600, treatment 400" in explanation
    assert "control 50%, treatment 50%" in explanation
    assert "chi-square 40.0" in explanation and "p = 2.5e-10" in explanation


def test_configured_weights_decide_the_expected_split(stats_db):
    # 900 vs 100 against equal weights: chi-square = 2 · 400² / 500 = 640, a mismatch.
    unweighted = run(stats_db, "weighted")
    assert unweighted.sample_ratio.p_value == approx(stats.chi2.sf(640, 1))
    assert unweighted.has_srm is True and verdict_lines(unweighted) == []
    # Declared 90/10 (as in EXPERIMENTS): exactly the expected 900/100, chi-square 0, p = 1.
    declared = parse_declared({"weighted": {"variants": {"control": 90, "treatment": 10}}})
    weighted = run(stats_db, "weighted", declared)
    assert [r["srm_p_value"] for r in table_rows(weighted)] == [1.0, 1.0]
    assert weighted.has_srm is False and srm_explanation(weighted) is None
    assert len(verdict_lines(weighted)) == 1
    # The weights change the SRM check only.
    assert counts(weighted) == counts(unweighted)
    pd.testing.assert_frame_equal(
        weighted.table.drop(columns="srm_p_value"), unweighted.table.drop(columns="srm_p_value")
    )


def test_verdict_wording(stats_db):
    result = run(stats_db, "verdict")
    # A 1000/10000 = 10%, B 1090/10000 = 10.9%: B converts 9.0% better. Pooled rate 0.1045:
    # z = 0.009 / sqrt(0.1045 · 0.8955 · 2/10000) = 2.0806, p = 0.03749 -> "0.037";
    # P(B > A) ≈ Φ(0.009 / sqrt(0.09/10000 + 0.0971/10000)) ≈ 0.98.
    p_value = pearson_p((10000, 1000), (10000, 1090))
    chance = miller_chance((10000, 1000), (10000, 1090))
    assert p_value == pytest.approx(0.03749, abs=1e-5) and round(chance, 2) == 0.98
    check_stats(table_rows(result)[1], expected_stats((10000, 1000), (10000, 1090)))
    assert verdict_lines(result) == ["B converts 9.0% better than A; 98% chance to beat control"]
    assert verdict_lines(result, "frequentist") == ["B converts 9.0% better than A; p = 0.037"]


def test_verdict_wording_with_several_treatments(stats_db):
    result = run(stats_db, "verdict_three")
    # A 10%, B 7.5%, C 10.25%. Holm over B's and C's pooled p-values.
    raw = [pearson_p((2000, 200), (2000, 150)), pearson_p((2000, 200), (2000, 205))]
    adjusted = holm(raw)
    chance_b = miller_chance((2000, 200), (2000, 150))
    chance_c = miller_chance((2000, 200), (2000, 205))
    assert adjusted[0] < 0.05 <= adjusted[1]
    assert chance_b < 0.01 and 0.01 < chance_c < 0.99
    assert verdict_lines(result) == [
        "B converts 25.0% worse than A; <1% chance to beat control",
        f"C converts 2.5% better than A; {chance_c:.0%} chance to beat control"
        " (not conclusive: 95% either way is the usual bar)",
    ]
    assert verdict_lines(result, "frequentist") == [
        f"B converts 25.0% worse than A; p = {adjusted[0]:.2g} (Holm-adjusted)",
        f"C converts 2.5% better than A; p = {adjusted[1]:.2g} (Holm-adjusted)"
        " (not significant at 95%)",
    ]


# --- which users, which conversions -------------------------------------------------------------


@pytest.fixture(scope="module")
def choice_db(tmp_path_factory):
    from app.storage import Source, load
    from tests.conftest import events_table

    variants = {
        "with_control": ["B", "A", "control"],
        "with_a": ["B", "A", "C"],
        "neither": ["v3", "v1", "v2"],
    }
    rows = [
        (experiment, f"{experiment}-{variant}", variant, "2024-01-01 00:00:00")
        for experiment, names in variants.items() for variant in names
    ]
    path = tmp_path_factory.mktemp("experiment_control") / "control.duckdb"
    load(path, Source("events", table=events_table([("2024-01-01", "x", "session")])),
         Source("assignments", table=assignments_table(rows)))
    return path


@pytest.mark.parametrize(("experiment", "requested", "order"), [
    # `control` wins over `A`; the others follow alphabetically.
    ("with_control", None, ["control", "A", "B"]),
    # No `control`: `A`.
    ("with_a", None, ["A", "B", "C"]),
    # Neither: the first alphabetically, not the first assigned.
    ("neither", None, ["v1", "v2", "v3"]),
    # Asked for: wins over `control` and `A`.
    ("with_control", "B", ["B", "A", "control"]),
    ("with_a", "C", ["C", "A", "B"]),
])
def test_control_choice(choice_db, experiment, requested, order):
    result = run(choice_db, experiment, control=requested)
    assert result.control == order[0]
    assert [row[:2] for row in counts(result)] == [
        (name, name == order[0]) for name in order
    ]


def test_unknown_control_is_refused(choice_db):
    with pytest.raises(ParameterError, match=r"control 'Z' is not a variant.*A, B, C"):
        run(choice_db, "with_a", control="Z")


def test_date_range_selects_users_by_assignment_time(make_db):
    assignments = assignments_table([
        ("range", "r1", "A", "2024-01-01 23:59:59"),
        ("range", "r2", "A", "2024-01-02 00:00:00"),
        ("range", "r3", "B", "2024-01-03 23:59:59.999999"),
        ("range", "r4", "B", "2024-01-04 00:00:00"),
        ("range", "r5", "B", "2024-01-03 12:00:00"),
    ])
    path = make_db([
        # r2's purchase is long after the range: it counts, the range selects users only.
        ("2024-01-20 00:00:00", "r2", "purchase", 1.0),
        ("2024-01-04 00:00:00", "r3", "purchase", 1.0),
        ("2024-01-04 01:00:00", "r4", "purchase", 1.0),
    ], assignments=assignments)
    # [01-02, 01-03]: A r2 (converts); B r3 (converts), r5.
    assert counts(run(path, "range", start=D(2024, 1, 2), end=D(2024, 1, 3))) == [
        ("A", True, 1, 1, 1.0), ("B", False, 2, 1, 0.5),
    ]
    # From 01-02: A r2; B r3, r4 (both convert), r5.
    assert counts(run(path, "range", start=D(2024, 1, 2))) == [
        ("A", True, 1, 1, 1.0), ("B", False, 3, 2, 2 / 3),
    ]
    # Up to 01-03: A r1, r2 (r2 converts); B r3, r5 (r3 converts).
    assert counts(run(path, "range", end=D(2024, 1, 3))) == [
        ("A", True, 2, 1, 0.5), ("B", False, 2, 1, 0.5),
    ]
    # A single day, 01-04: r4 only.
    assert counts(run(path, "range", start=D(2024, 1, 4), end=D(2024, 1, 4))) == [
        ("B", True, 1, 1, 1.0),
    ]
    with pytest.raises(ParameterError, match="has no users"):
        run(path, "range", start=D(2024, 1, 5))
    with pytest.raises(ParameterError, match="start date 2024-01-03 is after end date"):
        run(path, "range", start=D(2024, 1, 3), end=D(2024, 1, 2))


def test_conversion_window(make_db):
    assignments = assignments_table([
        ("window", "w1", "A", "2024-01-01 10:00:00"),
        ("window", "w2", "A", "2024-01-01 10:00:00"),
        ("window", "w3", "A", "2024-01-01 10:00:00"),
        ("window", "w4", "B", None),
        ("window", "w5", "B", "2024-01-01 00:00:00"),
    ])
    path = make_db([
        ("2024-01-02 09:59:00", "w1", "purchase", 1.0),  # 23 h 59 min after
        ("2024-01-02 10:01:00", "w2", "purchase", 1.0),  # 24 h 1 min after
        ("2024-01-05 00:00:00", "w2", "purchase", 1.0),
        ("2024-01-01 21:00:00", "w3", "purchase", 1.0),  # 11 h after
        ("2024-03-01 00:00:00", "w4", "purchase", 1.0),  # no assigned_at: any time
        ("2024-01-01 13:00:00", "w5", "purchase", 1.0),  # 13 h after
    ], assignments=assignments)
    # No window: everybody converts.
    assert counts(run(path, "window")) == [("A", True, 3, 3, 1.0), ("B", False, 2, 2, 1.0)]
    # 1 day: A w1, w3 (w2's purchases are later); B w4, w5.
    assert counts(run(path, "window", window_days=1)) == [
        ("A", True, 3, 2, 2 / 3), ("B", False, 2, 2, 1.0),
    ]
    # 12 hours: A w3; B w4 (13 h is too late for w5).
    assert counts(run(path, "window", window_days=0.5)) == [
        ("A", True, 3, 1, 1 / 3), ("B", False, 2, 1, 0.5),
    ]
    for bad in (0, -1):
        with pytest.raises(ParameterError, match="positive number of days"):
            run(path, "window", window_days=bad)


def test_conversion_event_other_than_purchase(make_db):
    assignments = assignments_table([
        ("event", "e1", "A", "2024-01-01 10:00:00"),
        ("event", "e2", "A", "2024-01-01 10:00:00"),
        ("event", "e3", "B", "2024-01-01 10:00:00"),
        ("event", "e4", "B", "2024-01-01 10:00:00"),
    ])
    path = make_db([
        ("2024-01-01 11:00:00", "e1", "signup"),
        ("2024-01-01 11:00:00", "e2", "purchase", 3.0),
        ("2024-01-01 09:00:00", "e3", "signup"),  # before assignment
        ("2024-01-01 12:00:00", "e3", "signup"),  # after: e3 converts
        ("2024-01-01 11:00:00", "e4", "purchase", 3.0),
    ], assignments=assignments)
    # signup: A e1, B e3. purchase (the default): A e2, B e4.
    assert counts(run(path, "event", conversion_event="signup")) == [
        ("A", True, 2, 1, 0.5), ("B", False, 2, 1, 0.5),
    ]
    assert counts(run(path, "event")) == [("A", True, 2, 1, 0.5), ("B", False, 2, 1, 0.5)]
    # An event type nobody has: every user still counts, nobody converts.
    assert counts(run(path, "event", conversion_event="refund")) == [
        ("A", True, 2, 0, 0.0), ("B", False, 2, 0, 0.0),
    ]


def test_segment_filter(make_db):
    assignments = assignments_table([
        ("seg", "s1", "A", "2024-01-01 10:00:00"),
        ("seg", "s2", "A", "2024-01-01 10:00:00"),
        ("seg", "s3", "A", "2024-01-01 10:00:00"),
        ("seg", "s4", "A", "2024-01-01 10:00:00"),
        ("seg", "s5", "B", "2024-01-01 10:00:00"),
        ("seg", "s6", "B", "2024-01-01 10:00:00"),
    ])
    path = make_db([
        ("2024-01-01 11:00:00", "s1", "session", None, "ios"),
        ("2024-01-01 12:00:00", "s1", "purchase", 2.0, "ios"),
        ("2024-01-01 11:00:00", "s2", "session", None, "ios"),
        ("2024-01-01 12:00:00", "s2", "purchase", 2.0, "web"),
        ("2024-01-01 12:00:00", "s3", "purchase", 2.0, "web"),
        # s4 has no events at all.
        ("2024-01-01 12:00:00", "s5", "purchase", 2.0, "ios"),
        ("2024-01-01 12:00:00", "s6", "purchase", 2.0, "android"),
    ], segment_columns=("platform",), assignments=assignments)
    # Unfiltered: A s1..s4 (s1, s2, s3 convert); B s5, s6 (both convert).
    assert counts(run(path, "seg")) == [("A", True, 4, 3, 0.75), ("B", False, 2, 2, 1.0)]
    # ios: users with an ios event, conversions from ios events only. A: s1 (ios purchase),
    # s2 (ios session, web purchase: not a converter). B: s5.
    ios = SegmentFilter.from_mapping({"platform": ["ios"]})
    assert counts(run(path, "seg", segment=ios)) == [
        ("A", True, 2, 1, 0.5), ("B", False, 1, 1, 1.0),
    ]
    # Two values of one column are alternatives: web or android. A: s2 (web purchase), s3.
    # B: s6.
    web_android = SegmentFilter.from_mapping({"platform": ["web", "android"]})
    assert counts(run(path, "seg", segment=web_android)) == [
        ("A", True, 2, 2, 1.0), ("B", False, 1, 1, 1.0),
    ]
    with pytest.raises(FilterError, match="'nosuch'"):
        run(path, "seg", segment=SegmentFilter.from_mapping({"nosuch": ["1"]}))


def test_experiment_without_users_is_refused(make_db):
    assignments = assignments_table([
        ("both", "u1", "A", "2024-01-01 10:00:00"),
        ("both", "u1", "B", "2024-01-01 10:00:00"),
        ("real", "u2", "A", "2024-01-01 10:00:00"),
    ])
    path = make_db([("2024-01-01 10:00:00", "u1", "session")], assignments=assignments)
    with pytest.raises(ParameterError, match="experiment 'nosuch' has no users"):
        run(path, "nosuch")
    # Its only user is in two variants: nobody is left.
    with pytest.raises(ParameterError, match="experiment 'both' has no users"):
        run(path, "both")


# --- cumulative daily series --------------------------------------------------------------------


def daily_rows(result) -> list[tuple]:
    return [
        (variant, pd.Timestamp(day).date(), plain(users), plain(converters), plain(rate))
        for variant, day, users, converters, rate in result.daily.itertuples(index=False)
    ]


def test_cumulative_daily(make_db):
    assignments = assignments_table([
        ("daily", "a1", "A", "2024-01-01 08:00:00"),
        ("daily", "a2", "A", "2024-01-01 12:00:00"),
        ("daily", "a3", "A", "2024-01-02 09:00:00"),
        ("daily", "b1", "B", "2024-01-02 10:00:00"),
        ("daily", "b2", "B", "2024-01-04 10:00:00"),
    ])
    path = make_db([
        ("2024-01-01 09:00:00", "a1", "purchase", 1.0),  # converts on 01-01
        ("2024-01-03 10:00:00", "a2", "purchase", 1.0),  # converts on 01-03
        ("2024-01-02 11:00:00", "b1", "purchase", 1.0),  # first conversion on 01-02
        ("2024-01-04 11:00:00", "b1", "purchase", 1.0),
        ("2024-01-03 10:00:00", "b2", "purchase", 1.0),  # before assignment: no
    ], assignments=assignments)
    result = run(path, "daily")
    # A: 01-01 a1, a2 assigned, a1 converted; 01-02 +a3; 01-03 +a2 converted.
    # B: 01-02 b1 assigned and converted; 01-04 +b2 assigned.
    assert daily_rows(result) == [
        ("A", D(2024, 1, 1), 2, 1, 0.5),
        ("A", D(2024, 1, 2), 3, 1, 1 / 3),
        ("A", D(2024, 1, 3), 3, 2, 2 / 3),
        ("B", D(2024, 1, 2), 1, 1, 1.0),
        ("B", D(2024, 1, 4), 2, 1, 0.5),
    ]
    # The last day of each variant agrees with the table.
    last = {variant: (users, converters) for variant, _, users, converters, _ in
            daily_rows(result)}
    assert last == {row[0]: (row[2], row[3]) for row in counts(result)}


def test_cumulative_daily_never_has_more_converters_than_users(make_db):
    assignments = assignments_table([
        ("undated", "a1", "A", "2024-01-02 00:00:00"),
        ("undated", "b1", "B", "2024-01-02 00:00:00"),
        ("undated", "b2", "B", None),
        ("undated", "b3", "B", None),
    ])
    path = make_db([
        ("2024-01-03 10:00:00", "b2", "purchase", 1.0),
        ("2024-01-03 11:00:00", "b3", "purchase", 1.0),
    ], assignments=assignments)
    result = run(path, "undated")
    # The table is right: B has 3 users, 2 converters (b2, b3, any time).
    assert counts(result) == [("A", True, 1, 0, 0.0), ("B", False, 3, 2, 2 / 3)]
    for variant, day, users, converters, rate in daily_rows(result):
        assert converters <= users, (variant, day, users, converters)
        assert rate is None or rate <= 1.0, (variant, day, rate)


# --- hashed assignment of declared experiments --------------------------------------------------

HASHED_START = T(2024, 1, 4)
HASHED_WEIGHTS = {"control": 50, "B": 30, "C": 20}
ODD_USERS = ["ü-user", "ユーザー", "a b", "0", "user,with,commas"]


def hashed_events() -> list[tuple]:
    """3000 users with a first session spread over 2024-01-01..10; every third comes back 5
    days later, every fourth purchases an hour after the first session."""
    rows = []
    for index in range(3000):
        user = f"u{index}"
        first = T(2024, 1, 1) + dt.timedelta(days=index % 10, hours=index % 24)
        rows.append((first, user, "session"))
        if index % 3 == 0:
            rows.append((first + dt.timedelta(days=5), user, "session"))
        if index % 4 == 0:
            rows.append((first + dt.timedelta(hours=1), user, "purchase", 9.0))
    for user in ODD_USERS:
        rows.append((T(2024, 1, 6), user, "session"))
        rows.append((T(2024, 1, 6, 1), user, "purchase", 1.0))
    return rows


@pytest.fixture(scope="module")
def hashed(tmp_path_factory):
    from app.storage import Source, load
    from tests.conftest import events_table

    path = tmp_path_factory.mktemp("experiment_hashed") / "hashed.duckdb"
    load(path, Source("events", table=events_table(hashed_events())))
    declared = parse_declared({"hashed": {
        "variants": HASHED_WEIGHTS, "salt": "checkout-2024", "start": "2024-01-04",
    }})
    return path, declared


def expected_hashed_users() -> dict[str, tuple[dt.datetime, bool]]:
    """user -> (assigned_at, converted), straight from the event rows: assigned at the first
    event on or after the start; converted with a purchase at or after that."""
    events = defaultdict(list)
    for when, user, kind, *_ in hashed_events():
        events[user].append((when, kind))
    out = {}
    for user, rows in events.items():
        after = [when for when, _ in rows if when >= HASHED_START]
        if after:
            assigned = min(after)
            out[user] = (assigned, any(k == "purchase" and w >= assigned for w, k in rows))
    return out


def test_hashed_variant_of_every_user_matches_python(hashed):
    path, declared = hashed
    experiment = declared["hashed"]
    backend = DuckDBBackend(path)
    sql, params = hashed_assignments_sql(backend, experiment)
    frame = backend.run(sql, params | {"experiment": "hashed"})
    expected = expected_hashed_users()
    # Users whose every event is before the start are not in the experiment.
    assert sorted(frame["user_id"]) == sorted(expected)
    assert len(expected) > 1500 and set(ODD_USERS) <= set(expected)
    mismatched = [
        (user, variant, experiment.variant_of(user))
        for user, variant in zip(frame["user_id"], frame["variant"], strict=True)
        if variant != experiment.variant_of(user)
    ]
    assert mismatched == []
    assigned = dict(zip(frame["user_id"], frame["assigned_at"], strict=True))
    assert {user: pd.Timestamp(when).to_pydatetime() for user, when in assigned.items()} == {
        user: when for user, (when, _) in expected.items()
    }
    # variant_of itself is md5(salt || user): first 32 bits over 2^32 into cumulative weights.
    for user in ["u0", "ü-user"]:
        bucket = int(hashlib.md5(("checkout-2024" + user).encode()).hexdigest()[:8], 16) / 2**32
        variant = "control" if bucket < 0.5 else "B" if bucket < 0.8 else "C"
        assert experiment.variant_of(user) == variant


def test_hashed_experiment_results(hashed):
    path, declared = hashed
    experiment = declared["hashed"]
    expected = expected_hashed_users()
    users = Counter(experiment.variant_of(user) for user in expected)
    converters = Counter(experiment.variant_of(u) for u, (_, conv) in expected.items() if conv)
    result = run(path, "hashed", declared)
    assert counts(result) == [
        (name, name == "control", users[name], converters[name],
         converters[name] / users[name])
        for name in ["control", "B", "C"]
    ]
    # Many users: the shares are close to the weights, and the SRM check passes.
    total = sum(users.values())
    for name, weight in HASHED_WEIGHTS.items():
        assert users[name] / total == pytest.approx(weight / 100, abs=0.03)
    assert result.has_srm is False
    assert result.sample_ratio.expected == pytest.approx(
        {name: total * weight / 100 for name, weight in HASHED_WEIGHTS.items()}
    )
    # Deterministic: a second run on a fresh backend gives the same table, and the date
    # range applies to the hashed assignment time.
    again = run(path, "hashed", declared)
    pd.testing.assert_frame_equal(result.table, again.table)
    first_day = run(path, "hashed", declared, start=D(2024, 1, 4), end=D(2024, 1, 4))
    on_day = Counter(
        experiment.variant_of(user)
        for user, (when, _) in expected.items() if when.date() == D(2024, 1, 4)
    )
    assert [(row[0], row[2]) for row in counts(first_day)] == [
        (name, on_day[name]) for name in ["control", "B", "C"]
    ]


def test_hashed_salt_changes_the_buckets(hashed):
    path, _ = hashed
    declared = parse_declared({
        "one": {"variants": {"control": 1, "treatment": 1}, "salt": "one"},
        "two": {"variants": {"control": 1, "treatment": 1}, "salt": "two"},
    })
    users = sorted(expected_hashed_users())[:200]
    one = [declared["one"].variant_of(user) for user in users]
    two = [declared["two"].variant_of(user) for user in users]
    assert one != two
    # Without a start, every user is in: 3000 + the odd ones.
    result = run(path, "one", declared)
    assert sum(row[2] for row in counts(result)) == 3000 + len(ODD_USERS)
