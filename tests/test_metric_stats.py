"""Mean, ratio and CUPED statistics (queries/metric_stats.py): the moments against numpy on the
raw values, the delta method and theta by a second computation, and every test result against
GrowthBook's gbstats 0.8 run in its own environment (tests/gbstats_reference.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from queries.metric_stats import (
    Adjusted,
    Moments,
    Ratio,
    pooled_theta,
    relative_lift_test,
    variance_reduction,
)
from tests import gbstats_reference
from tests.conftest import IN_CI


def users(seed: int, n: int, uplift: float) -> dict[str, np.ndarray]:
    """Per-user revenue and orders after assignment, and revenue in the 14 days before."""
    rng = np.random.default_rng(seed)
    habit = rng.gamma(2.0, 10.0, n)  # what a user usually spends: it carries over
    buys = rng.random(n) < np.clip(habit / 40, 0.05, 0.9)  # habitual spenders buy more often
    orders = np.where(buys, rng.poisson(1.5, n) + 1, 0)
    revenue = np.where(buys, habit * orders * (1 + uplift) + rng.normal(0, 5, n), 0.0)
    pre = np.where(rng.random(n) < np.clip(habit / 40, 0.05, 0.9),
                   habit * (rng.poisson(1.5, n) + 1), 0.0)
    return {"revenue": np.clip(revenue, 0, None), "orders": orders.astype(float), "pre": pre}


CONTROL, TREATMENT = users(1, 4000, 0.0), users(2, 4100, 0.06)


def moments(values: np.ndarray) -> Moments:
    return Moments(len(values), float(values.sum()), float((values ** 2).sum()))


def ratio(arm) -> Ratio:
    return Ratio(moments(arm["revenue"]), moments(arm["orders"]),
                 float((arm["revenue"] * arm["orders"]).sum()))


def adjusted(arm) -> Adjusted:
    return Adjusted(moments(arm["revenue"]), moments(arm["pre"]),
                    float((arm["revenue"] * arm["pre"]).sum()))


def sums(arm, kind: str) -> dict:
    def pair(values):
        return [float(values.sum()), float((values ** 2).sum())]
    other = {"ratio": "orders", "cuped": "pre"}.get(kind)
    data = {"n": len(arm["revenue"]), "value": pair(arm["revenue"])}
    if other:
        key = "denominator" if kind == "ratio" else "pre"
        data |= {key: pair(arm[other]), "products": float((arm["revenue"] * arm[other]).sum())}
    return data


def test_moments_give_numpys_mean_and_sample_variance():
    values = CONTROL["revenue"]
    assert moments(values).mean == pytest.approx(values.mean(), rel=1e-12)
    assert moments(values).variance == pytest.approx(values.var(ddof=1), rel=1e-9)
    assert Moments(1, 5.0, 25.0).variance == 0.0 and Moments(0, 0.0, 0.0).mean == 0.0


def test_the_ratio_variance_is_the_delta_method_computed_by_its_gradient():
    # Var(m̄/d̄) ≈ g Σ gᵀ / n with g = (1/d̄, -m̄/d̄²) and Σ the sample covariance of (m, d).
    m, d = CONTROL["revenue"], CONTROL["orders"]
    gradient = np.array([1 / d.mean(), -m.mean() / d.mean() ** 2])
    by_gradient = gradient @ np.cov(m, d, ddof=1) @ gradient
    assert ratio(CONTROL).variance == pytest.approx(by_gradient, rel=1e-9)
    assert ratio(CONTROL).mean == pytest.approx(m.sum() / d.sum())


def test_theta_is_the_pooled_least_squares_slope_of_post_on_pre():
    post = np.concatenate([CONTROL["revenue"], TREATMENT["revenue"]])
    pre = np.concatenate([CONTROL["pre"], TREATMENT["pre"]])
    slope = np.polyfit(pre, post, 1)[0]
    assert pooled_theta(adjusted(CONTROL), adjusted(TREATMENT)) == pytest.approx(slope, rel=1e-9)


def test_cuped_narrows_the_interval_by_the_variance_it_removes():
    plain = relative_lift_test(moments(CONTROL["revenue"]), moments(TREATMENT["revenue"]))
    cuped = relative_lift_test(adjusted(CONTROL), adjusted(TREATMENT))
    reduction = variance_reduction(adjusted(CONTROL), adjusted(TREATMENT))
    assert 0.05 < reduction < 1
    widths = [test.ci_high - test.ci_low for test in (plain, cuped)]
    # The t quantiles differ only in the fourth digit at these sizes.
    assert widths[1] / widths[0] == pytest.approx(math.sqrt(1 - reduction), rel=2e-3)


def test_no_test_without_a_control_mean_or_any_variance():
    zero = Moments(10, 0.0, 0.0)
    assert relative_lift_test(zero, Moments(10, 5.0, 9.0)) is None
    assert relative_lift_test(Moments(10, 10.0, 10.0), Moments(10, 5.0, 9.0)) is None


def test_a_sequential_interval_is_wider_than_the_fixed_one():
    fixed = relative_lift_test(ratio(CONTROL), ratio(TREATMENT))
    always = relative_lift_test(ratio(CONTROL), ratio(TREATMENT), sequential_tuning=5000)
    assert always.lift_rel == fixed.lift_rel
    assert always.ci_high - always.ci_low > fixed.ci_high - fixed.ci_low
    assert always.p_value >= fixed.p_value


CASES = [
    ("mean", None, lambda arm: moments(arm["revenue"])),
    ("mean", 5000, lambda arm: moments(arm["revenue"])),
    ("ratio", None, ratio),
    ("ratio", 2000, ratio),
    ("cuped", None, adjusted),
    ("cuped", 5000, adjusted),
]


def test_every_result_matches_gbstats():
    if not gbstats_reference.python().exists():
        message = f"{gbstats_reference.python()} is missing: run .ci/setup-gbstats"
        if IN_CI:
            pytest.fail(message + " (.ci/run should have)")
        pytest.skip(message)
    expected = gbstats_reference.results([
        {"kind": kind, "sequential": tuning, "control": sums(CONTROL, kind),
         "treatment": sums(TREATMENT, kind)} for kind, tuning, _ in CASES])
    for (kind, tuning, make), reference in zip(CASES, expected, strict=True):
        ours = relative_lift_test(make(CONTROL), make(TREATMENT), sequential_tuning=tuning)
        assert [ours.lift_rel, ours.ci_low, ours.ci_high, ours.p_value] == pytest.approx(
            [reference["lift_rel"], *reference["ci"], reference["p_value"]], rel=1e-9,
            abs=1e-12), (kind, tuning)
        assert ours.chance_to_beat_control == pytest.approx(reference["chance_to_win"],
                                                            rel=1e-9), kind
