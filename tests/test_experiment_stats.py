"""queries/experiment_stats.py against independent values: published and hand-worked examples,
the formulas re-derived here in another algebraic form, exact sums, scipy's own tests, and
seeded Monte Carlo. Nothing here calls the module to produce its own expected value."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import special, stats

from queries.experiment_stats import (
    SRM_THRESHOLD,
    Arm,
    absolute_lift_interval,
    chance_to_beat_control,
    compare,
    compare_all,
    holm_adjust,
    minimum_detectable_effect,
    relative_lift_interval,
    sample_ratio_check,
    two_proportion_p_value,
    users_per_arm,
)

Z_95 = 1.959963984540054  # Φ⁻¹(0.975), from standard tables


def arm(users: int, converters: int, name: str = "arm") -> Arm:
    return Arm(name, users, converters)


# --- sample ratio mismatch ----------------------------------------------------------------------


def test_srm_published_example_600_400():
    ratio = sample_ratio_check({"A": 600, "B": 400})
    # (100²/500)·2 = 40; with one degree of freedom chi-square is z², so p = 2·Φ(-√40).
    assert ratio.chi_square == pytest.approx(40.0)
    assert ratio.p_value == pytest.approx(2.54e-10, rel=1e-3)
    assert ratio.p_value == pytest.approx(2 * stats.norm.sf(math.sqrt(40)), rel=1e-9)
    assert ratio.mismatch
    assert ratio.expected == {"A": 500.0, "B": 500.0}
    assert ratio.observed == {"A": 600, "B": 400}


def test_srm_even_split_is_no_mismatch():
    ratio = sample_ratio_check({"A": 500, "B": 500})
    assert ratio.chi_square == 0.0
    assert ratio.p_value == pytest.approx(1.0)
    assert not ratio.mismatch


def test_srm_weighted_90_10():
    ratio = sample_ratio_check({"A": 900, "B": 100}, {"A": 90, "B": 10})
    assert ratio.expected == pytest.approx({"A": 900.0, "B": 100.0})
    assert not ratio.mismatch
    # The same 50/50 users against a declared 90/10 split are a gross mismatch.
    assert sample_ratio_check({"A": 500, "B": 500}, {"A": 90, "B": 10}).mismatch


def test_srm_weights_are_normalised():
    counts = {"A": 530, "B": 470}
    unweighted = sample_ratio_check(counts)
    for weights in ({"A": 1, "B": 1}, {"A": 0.5, "B": 0.5}, {"A": 50, "B": 50}):
        assert sample_ratio_check(counts, weights).p_value == pytest.approx(unweighted.p_value)


def test_srm_three_arms():
    ratio = sample_ratio_check({"A": 1000, "B": 1000, "C": 900})
    expected = 2900 / 3
    by_hand = 2 * (1000 - expected) ** 2 / expected + (900 - expected) ** 2 / expected
    assert ratio.chi_square == pytest.approx(by_hand)  # ≈ 6.897
    # With two degrees of freedom the chi-square survival function is exp(-x/2).
    assert ratio.p_value == pytest.approx(math.exp(-by_hand / 2))
    assert not ratio.mismatch
    assert sample_ratio_check({"A": 1000, "B": 1000, "C": 800}).mismatch


def test_srm_three_arms_weighted_matches_scipy_chisquare():
    counts, weights = {"A": 5100, "B": 2400, "C": 2500}, {"A": 2, "B": 1, "C": 1}
    reference = stats.chisquare([5100, 2400, 2500], f_exp=[5000, 2500, 2500])
    ratio = sample_ratio_check(counts, weights)
    assert ratio.chi_square == pytest.approx(reference.statistic)
    assert ratio.p_value == pytest.approx(reference.pvalue)


def test_srm_users_in_an_undeclared_variant_are_a_mismatch():
    ratio = sample_ratio_check({"A": 500, "B": 480, "rogue": 3}, {"A": 1, "B": 1})
    assert ratio.chi_square == math.inf
    assert ratio.p_value == 0.0
    assert ratio.mismatch


def test_srm_declared_variant_without_users_counts_as_zero():
    ratio = sample_ratio_check({"A": 500}, {"A": 1, "B": 1})
    assert ratio.observed == {"A": 500, "B": 0}
    assert ratio.chi_square == pytest.approx(500.0)
    assert ratio.mismatch


def test_srm_nothing_to_compare_is_no_mismatch():
    assert not sample_ratio_check({"A": 1234}).mismatch
    assert not sample_ratio_check({"A": 0, "B": 0}).mismatch
    assert SRM_THRESHOLD == 0.001


def test_srm_rejects_invalid_weights():
    with pytest.raises(ValueError):
        sample_ratio_check({"A": 1, "B": 1}, {"A": -1, "B": 2})
    with pytest.raises(ValueError):
        sample_ratio_check({"A": 1, "B": 1}, {"A": 0, "B": 0})


# --- pooled two-proportion z-test -------------------------------------------------------------


def reference_pooled_p(control_converters, control_users, treatment_converters, treatment_users):
    pooled = (control_converters + treatment_converters) / (control_users + treatment_users)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / control_users + 1 / treatment_users))
    z = (treatment_converters / treatment_users - control_converters / control_users)
    return 2 * stats.norm.cdf(-abs(z / standard_error))


def test_p_value_textbook_200_of_1000_vs_250_of_1000():
    p_value = two_proportion_p_value(arm(1000, 200), arm(1000, 250))
    # By hand: p̄ = 0.225, se = √(0.225·0.775·0.002) = 0.018675, z = 0.05/se = 2.6774.
    assert p_value == pytest.approx(0.00742, abs=5e-5)
    assert p_value == pytest.approx(reference_pooled_p(200, 1000, 250, 1000), rel=1e-9)


@pytest.mark.parametrize(
    ("control", "treatment"),
    [((1000, 200), (1000, 250)), ((5000, 310), (4800, 330)), ((37, 4), (52, 11)),
     ((100000, 2000), (100000, 2000)), ((20, 0), (25, 6))],
)
def test_p_value_equals_chi_square_without_correction(control, treatment):
    (control_users, control_converters), (treatment_users, treatment_converters) = (
        control, treatment
    )
    table = [[control_converters, control_users - control_converters],
             [treatment_converters, treatment_users - treatment_converters]]
    chi_square_p = stats.chi2_contingency(table, correction=False).pvalue
    p_value = two_proportion_p_value(arm(*control), arm(*treatment))
    assert p_value == pytest.approx(chi_square_p, rel=1e-9)
    assert p_value == pytest.approx(
        reference_pooled_p(control_converters, control_users, treatment_converters,
                           treatment_users), rel=1e-9
    )


@pytest.mark.parametrize(
    ("control", "treatment"),
    [((100, 0), (200, 0)), ((100, 100), (50, 50)), ((0, 0), (10, 3)), ((10, 3), (0, 0))],
)
def test_p_value_is_none_without_pooled_variance(control, treatment):
    assert two_proportion_p_value(arm(*control), arm(*treatment)) is None


# --- absolute lift --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("control", "treatment", "confidence"),
    [((1000, 200), (1000, 250), 0.95), ((5000, 310), (4800, 330), 0.9),
     ((37, 4), (52, 11), 0.99), ((100, 0), (100, 5), 0.95)],
)
def test_absolute_lift_interval_by_hand(control, treatment, confidence):
    (control_users, control_converters), (treatment_users, treatment_converters) = (
        control, treatment
    )
    control_rate = control_converters / control_users
    treatment_rate = treatment_converters / treatment_users
    standard_error = math.sqrt(control_rate * (1 - control_rate) / control_users
                               + treatment_rate * (1 - treatment_rate) / treatment_users)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    lift = treatment_rate - control_rate
    result = absolute_lift_interval(arm(*control), arm(*treatment), confidence)
    assert result == pytest.approx((lift, lift - z * standard_error, lift + z * standard_error))


def test_absolute_lift_interval_textbook_numbers():
    lift, low, high = absolute_lift_interval(arm(1000, 200), arm(1000, 250), 0.95)
    # se = √(0.2·0.8/1000 + 0.25·0.75/1000) = √0.0003475 = 0.018641
    assert lift == pytest.approx(0.05)
    assert low == pytest.approx(0.05 - Z_95 * 0.0186414, abs=1e-6)
    assert high == pytest.approx(0.05 + Z_95 * 0.0186414, abs=1e-6)


def test_absolute_lift_interval_covers_about_95_percent():
    rng = np.random.default_rng(20240501)
    users, control_rate, treatment_rate, trials = 2000, 0.30, 0.35, 1000
    control_counts = rng.binomial(users, control_rate, trials)
    treatment_counts = rng.binomial(users, treatment_rate, trials)
    covered = 0
    for control_converters, treatment_converters in zip(
        control_counts, treatment_counts, strict=True
    ):
        _, low, high = absolute_lift_interval(
            arm(users, int(control_converters)), arm(users, int(treatment_converters)), 0.95
        )
        covered += low <= treatment_rate - control_rate <= high
    # Binomial noise on 1000 trials is ±0.007 per standard deviation.
    assert covered / trials == pytest.approx(0.95, abs=0.02)


def test_absolute_lift_interval_needs_users():
    assert absolute_lift_interval(arm(0, 0), arm(10, 1), 0.95) is None
    assert absolute_lift_interval(arm(10, 1), arm(0, 0), 0.95) is None


# --- relative lift (delta method) ---------------------------------------------------------------


def reference_relative_interval(control, treatment, confidence):
    """The delta method in its relative-variance form: CV²(ratio) ≈ CV²(p_t) + CV²(p_c)."""
    (control_users, control_converters), (treatment_users, treatment_converters) = (
        control, treatment
    )
    control_rate = control_converters / control_users
    treatment_rate = treatment_converters / treatment_users
    ratio = treatment_rate / control_rate
    standard_error = ratio * math.sqrt((1 - treatment_rate) / (treatment_rate * treatment_users)
                                       + (1 - control_rate) / (control_rate * control_users))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    return ratio - 1, ratio - 1 - z * standard_error, ratio - 1 + z * standard_error


@pytest.mark.parametrize(
    ("control", "treatment", "confidence"),
    [((1000, 200), (1000, 250), 0.95), ((5000, 310), (4800, 330), 0.9),
     ((37, 4), (52, 11), 0.99), ((200000, 10000), (200000, 11000), 0.95)],
)
def test_relative_lift_interval_matches_independent_formula(control, treatment, confidence):
    result = relative_lift_interval(arm(*control), arm(*treatment), confidence)
    assert result == pytest.approx(reference_relative_interval(control, treatment, confidence))
    lift, low, high = result
    assert high - lift == pytest.approx(lift - low)  # symmetric, on the lift itself


def test_relative_lift_textbook_numbers():
    lift, _, high = relative_lift_interval(arm(1000, 200), arm(1000, 250), 0.95)
    # var = 0.0001875/0.04 + 0.0625·0.00016/0.0016 = 0.0046875 + 0.00625 = 0.0109375
    assert lift == pytest.approx(0.25)
    assert high - lift == pytest.approx(Z_95 * math.sqrt(0.0109375))


def test_delta_method_standard_error_matches_simulation():
    rng = np.random.default_rng(7)
    users, control_rate, treatment_rate, trials = 200_000, 0.05, 0.055, 200_000
    ratios = (rng.binomial(users, treatment_rate, trials)
              / rng.binomial(users, control_rate, trials))
    simulated_se = ratios.std(ddof=1)
    expected_control = arm(users, round(users * control_rate))
    expected_treatment = arm(users, round(users * treatment_rate))
    lift, _, high = relative_lift_interval(expected_control, expected_treatment, 0.95)
    delta_se = (high - lift) / Z_95
    assert delta_se == pytest.approx(simulated_se, rel=0.02)
    assert lift == pytest.approx(ratios.mean() - 1, abs=0.002)


def test_relative_lift_undefined_without_control_conversions():
    assert relative_lift_interval(arm(100, 0), arm(100, 5), 0.95) is None
    assert relative_lift_interval(arm(0, 0), arm(100, 5), 0.95) is None


# --- Holm -------------------------------------------------------------------------------------


def test_holm_known_example():
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_holm_caps_at_one_and_keeps_single_p():
    assert holm_adjust([0.5, 0.6]) == [1.0, 1.0]
    assert holm_adjust([0.2]) == [0.2]
    assert holm_adjust([]) == []


def holm_rejects(p_values, alpha):
    """Holm's sequential procedure itself: walk up the sorted p-values, rejecting while
    p_(i) ≤ alpha / (m - i + 1); stop at the first failure."""
    rejected = [False] * len(p_values)
    for rank, index in enumerate(sorted(range(len(p_values)), key=p_values.__getitem__)):
        if p_values[index] > alpha / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected


def test_holm_adjusted_p_values_reproduce_the_sequential_procedure():
    rng = np.random.default_rng(3)
    for _ in range(200):
        p_values = list(rng.uniform(0, 0.2, rng.integers(1, 7)))
        adjusted = holm_adjust(p_values)
        assert all(p <= a <= 1 for p, a in zip(p_values, adjusted, strict=True))
        pairs = [(i, j) for i in range(len(p_values)) for j in range(len(p_values))]
        assert all(adjusted[i] <= adjusted[j] for i, j in pairs if p_values[i] <= p_values[j])
        for alpha in (0.01, 0.05, 0.1):
            assert [a <= alpha for a in adjusted] == holm_rejects(p_values, alpha)


def test_holm_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError):
        holm_adjust([0.1, float("nan")])
    with pytest.raises(ValueError):
        holm_adjust([1.2])


# --- chance to beat control ------------------------------------------------------------------


def monte_carlo_chance(control, treatment, draws=2_000_000, seed=12345):
    rng = np.random.default_rng(seed)
    (control_users, control_converters), (treatment_users, treatment_converters) = (
        control, treatment
    )
    control_draws = rng.beta(1 + control_converters, 1 + control_users - control_converters,
                             draws)
    treatment_draws = rng.beta(1 + treatment_converters,
                               1 + treatment_users - treatment_converters, draws)
    return float(np.mean(treatment_draws > control_draws))


def evan_miller_exact(control, treatment):
    """Evan Miller's closed form for P(p_B > p_A), integer Beta parameters, in log space."""
    (control_users, control_converters), (treatment_users, treatment_converters) = (
        control, treatment
    )
    alpha_a, beta_a = 1 + control_converters, 1 + control_users - control_converters
    alpha_b, beta_b = 1 + treatment_converters, 1 + treatment_users - treatment_converters
    i = np.arange(alpha_b)
    log_terms = (special.betaln(alpha_a + i, beta_a + beta_b) - np.log(beta_b + i)
                 - special.betaln(1 + i, beta_b) - special.betaln(alpha_a, beta_a))
    return float(np.exp(log_terms).sum())


CHANCE_CASES = {
    "equal arms": ((1000, 100), (1000, 100)),
    "clear winner": ((1000, 100), (1000, 140)),
    "zero conversions in control": ((500, 0), (500, 3)),
    "large counts": ((1_000_000, 100_000), (1_000_000, 100_400)),
}


@pytest.mark.parametrize(("control", "treatment"), CHANCE_CASES.values(), ids=CHANCE_CASES)
def test_chance_to_beat_control_matches_monte_carlo(control, treatment):
    chance = chance_to_beat_control(arm(*control), arm(*treatment))
    # 2e6 draws: Monte Carlo standard error at most √(0.25/2e6) = 0.00035.
    assert chance == pytest.approx(monte_carlo_chance(control, treatment), abs=0.001)


@pytest.mark.parametrize(
    ("control", "treatment"),
    [((1000, 100), (1000, 140)), ((500, 0), (500, 3)), ((12, 4), (9, 1)),
     ((20000, 1500), (20000, 1580)), ((800, 6), (600, 0)), ((1_000_000, 50_000), (2_000, 110))],
)
def test_chance_to_beat_control_matches_evan_miller_closed_form(control, treatment):
    chance = chance_to_beat_control(arm(*control), arm(*treatment))
    assert chance == pytest.approx(evan_miller_exact(control, treatment), abs=1e-8)


def test_chance_to_beat_control_equal_arms_and_symmetry():
    assert chance_to_beat_control(arm(1000, 100), arm(1000, 100)) == pytest.approx(0.5, abs=1e-6)
    small, large = arm(50, 7), arm(5000, 600)
    # Swapping the arms takes the other branch of the integration.
    assert (chance_to_beat_control(small, large) + chance_to_beat_control(large, small)
            == pytest.approx(1.0, abs=1e-9))


def test_chance_to_beat_control_is_fast_for_a_million_users():
    control, treatment = arm(1_000_000, 100_000), arm(1_000_000, 100_400)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        chance_to_beat_control(control, treatment)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05


# --- minimum detectable effect and planner ----------------------------------------------------


def fleiss_users(p1, p2, alpha=0.05, power=0.8):
    """Fleiss, Levin & Paik, ch. 4, without continuity correction."""
    p_bar = (p1 + p2) / 2
    z_alpha, z_beta = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    root = (z_alpha * math.sqrt(2 * p_bar * (1 - p_bar))
            + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
    return root**2 / (p2 - p1) ** 2


def normal_power(p1, delta, users, alpha=0.05):
    """Power of the two-sided pooled z-test at this lift: reject when |p̂2 - p̂1| exceeds
    z·σ0 (σ0 under H0), and p̂2 - p̂1 ~ N(δ, σ1²) under the alternative; far tail ignored."""
    p2 = p1 + delta
    p_bar = (p1 + p2) / 2
    sigma_null = math.sqrt(2 * p_bar * (1 - p_bar) / users)
    sigma_alternative = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / users)
    threshold = stats.norm.ppf(1 - alpha / 2) * sigma_null
    return stats.norm.sf((threshold - delta) / sigma_alternative)


def test_users_per_arm_hand_worked_10_to_15_percent():
    # (1.95996·√(2·0.125·0.875) + 0.84162·√(0.09 + 0.1275))² / 0.05² = 685.6 → 686
    assert users_per_arm(0.10, 0.05) == 686


@pytest.mark.parametrize(
    ("rate", "effect", "alpha", "power"),
    [(0.10, 0.05, 0.05, 0.8), (0.02, 0.002, 0.05, 0.8), (0.5, -0.03, 0.01, 0.9),
     (0.9, 0.05, 0.1, 0.8), (0.3, 0.7, 0.05, 0.8)],
)
def test_users_per_arm_matches_fleiss(rate, effect, alpha, power):
    expected = math.ceil(fleiss_users(rate, rate + effect, alpha, power))
    assert users_per_arm(rate, effect, alpha, power) == expected


@pytest.mark.parametrize(("rate", "users"), [(0.1, 686), (0.02, 50_000), (0.5, 1200), (0.9, 300)])
def test_minimum_detectable_effect_has_the_requested_power(rate, users):
    effect = minimum_detectable_effect(rate, users)
    assert effect > 0
    assert normal_power(rate, effect, users) == pytest.approx(0.8, abs=1e-6)
    # Close to the shortcut that uses the control's variance in both arms.
    shortcut = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(
        2 * rate * (1 - rate) / users
    )
    assert effect == pytest.approx(shortcut, rel=0.15)


@pytest.mark.parametrize(
    ("rate", "users"), [(0.1, 686), (0.02, 50_000), (0.5, 1200), (0.9, 300), (0.001, 10**6)]
)
def test_planner_round_trip(rate, users):
    assert users_per_arm(rate, minimum_detectable_effect(rate, users)) == users


@pytest.mark.parametrize(("rate", "effect"), [(0.1, 0.01), (0.04, 0.004), (0.6, 0.05)])
def test_minimum_detectable_effect_brackets_the_planned_effect(rate, effect):
    needed = users_per_arm(rate, effect)
    assert minimum_detectable_effect(rate, needed) <= effect
    assert minimum_detectable_effect(rate, needed - 1) > effect


def test_minimum_detectable_effect_power_by_simulation():
    rate, users, trials = 0.10, 3000, 20_000
    effect = minimum_detectable_effect(rate, users)
    rng = np.random.default_rng(99)
    control = rng.binomial(users, rate, trials) / users
    treatment = rng.binomial(users, rate + effect, trials) / users
    pooled = (control + treatment) / 2
    z = (treatment - control) / np.sqrt(pooled * (1 - pooled) * 2 / users)
    rejected = np.abs(z) > stats.norm.ppf(0.975)
    assert rejected.mean() == pytest.approx(0.8, abs=0.015)


@pytest.mark.parametrize(
    ("rate", "users"), [(0.0, 1000), (1.0, 1000), (0.1, 0), (float("nan"), 1000), (0.5, 10)]
)
def test_minimum_detectable_effect_undefined(rate, users):
    # 10 users at 50%: even 50% → 100% needs 10.5 per arm.
    assert minimum_detectable_effect(rate, users) is None


def test_minimum_detectable_effect_smallest_defined_case():
    assert minimum_detectable_effect(0.5, 11) is not None


@pytest.mark.parametrize(
    ("rate", "effect"), [(0.1, 0.0), (0.0, 0.01), (0.95, 0.1), (0.05, -0.1), (float("nan"), 0.1)]
)
def test_users_per_arm_undefined(rate, effect):
    assert users_per_arm(rate, effect) is None


def test_planning_rejects_invalid_error_rates():
    with pytest.raises(ValueError):
        users_per_arm(0.1, 0.01, alpha=0)
    with pytest.raises(ValueError):
        minimum_detectable_effect(0.1, 1000, power=1)


# --- compare and compare_all ----------------------------------------------------------------


def test_compare_matches_its_building_blocks():
    control, treatment = Arm("A", 1000, 200), Arm("B", 1000, 250)
    result = compare(control, treatment)
    assert result.variant == "B"
    assert result.error is None
    assert (result.lift_abs, result.lift_abs_ci_low, result.lift_abs_ci_high) == pytest.approx(
        absolute_lift_interval(control, treatment, 0.95)
    )
    assert (result.lift_rel, result.lift_rel_ci_low, result.lift_rel_ci_high) == pytest.approx(
        reference_relative_interval((1000, 200), (1000, 250), 0.95)
    )
    assert result.p_value == pytest.approx(reference_pooled_p(200, 1000, 250, 1000))
    assert result.p_value_adjusted == result.p_value
    assert result.chance_to_beat_control == pytest.approx(
        evan_miller_exact((1000, 200), (1000, 250)), abs=1e-8
    )


def test_compare_all_adjusts_with_holm():
    control = Arm("A", 4000, 400)
    treatments = [Arm("B", 4000, 440), Arm("C", 4000, 470), Arm("D", 4000, 405)]
    raw = [reference_pooled_p(400, 4000, t.converters, 4000) for t in treatments]
    results = compare_all(control, treatments)
    assert [r.variant for r in results] == ["B", "C", "D"]
    assert [r.p_value for r in results] == pytest.approx(raw)
    # Holm unrolled for m = 3 over the sorted p-values s1 ≤ s2 ≤ s3.
    s1, s2, s3 = sorted(raw)
    first = min(1.0, 3 * s1)
    second = max(first, min(1.0, 2 * s2))
    third = max(second, s3)
    adjusted_by_value = {s1: first, s2: second, s3: third}
    expected = [adjusted_by_value[p] for p in raw]
    assert [r.p_value_adjusted for r in results] == pytest.approx(expected)


def test_compare_all_with_one_treatment_leaves_p_unadjusted():
    (result,) = compare_all(Arm("A", 1000, 200), [Arm("B", 1000, 250)])
    assert result.p_value_adjusted == result.p_value


def test_compare_all_leaves_untestable_treatments_out_of_holm():
    control = Arm("A", 1000, 100)
    results = compare_all(control, [Arm("B", 0, 0), Arm("C", 1000, 130)])
    assert results[0].p_value is None and results[0].p_value_adjusted is None
    assert results[1].p_value_adjusted == results[1].p_value


def assert_no_statistics(result):
    fields = ["lift_abs", "lift_abs_ci_low", "lift_abs_ci_high", "lift_rel", "lift_rel_ci_low",
              "lift_rel_ci_high", "p_value", "p_value_adjusted", "chance_to_beat_control"]
    assert all(getattr(result, name) is None for name in fields)


def test_control_without_users():
    result = compare(Arm("A", 0, 0), Arm("B", 100, 10))
    assert result.error == "control has no users"
    assert_no_statistics(result)


def test_treatment_without_users():
    result = compare(Arm("A", 100, 10), Arm("B", 0, 0))
    assert result.error == "treatment has no users"
    assert_no_statistics(result)


def test_control_rate_zero_leaves_relative_lift_undefined():
    result = compare(Arm("A", 500, 0), Arm("B", 500, 8))
    assert "control rate is 0: relative lift undefined" in result.error
    assert result.lift_rel is None and result.lift_rel_ci_low is None
    assert result.lift_abs == pytest.approx(0.016)
    assert result.p_value == pytest.approx(reference_pooled_p(0, 500, 8, 500))
    assert result.chance_to_beat_control > 0.99


def test_both_arms_without_conversions():
    result = compare(Arm("A", 500, 0), Arm("B", 700, 0))
    assert result.error
    assert result.p_value is None and result.p_value_adjusted is None
    assert result.lift_rel is None
    assert result.lift_abs == 0.0
    # A zero-width interval would claim certainty the data do not give.
    assert result.lift_abs_ci_low is None and result.lift_abs_ci_high is None
    assert result.chance_to_beat_control == pytest.approx(
        monte_carlo_chance((500, 0), (700, 0)), abs=0.001
    )


def test_treatment_without_conversions_has_no_relative_interval():
    result = compare(Arm("A", 100, 10), Arm("B", 100, 0))
    assert result.lift_rel == pytest.approx(-1.0)
    assert result.lift_rel_ci_low is None and result.lift_rel_ci_high is None
    assert "relative-lift interval" in result.error
    assert result.lift_abs_ci_low is not None


def test_impossible_counts_give_an_error_not_an_exception():
    result = compare(Arm("A", 100, 10), Arm("B", 10, 20))
    assert "20 converters but only 10 users" in result.error
    assert_no_statistics(result)
    with pytest.raises(ValueError):
        two_proportion_p_value(Arm("A", 100, 10), Arm("B", 10, 20))


def test_invalid_confidence_raises():
    with pytest.raises(ValueError):
        compare(Arm("A", 100, 10), Arm("B", 100, 12), confidence=1.0)


def test_arm_rate():
    assert Arm("A", 200, 50).rate == 0.25
    assert Arm("A", 0, 0).rate is None
