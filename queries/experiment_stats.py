"""Statistics for A/B(/n) tests on conversion counts, in the style of GrowthBook's gbstats: small
pure functions over frozen dataclasses of counts.

A degenerate input (an arm without users, a control that never converts) is a fact about the
data, not a bug, so `compare` answers it with a Comparison whose `error` says why some fields are
None. The building blocks return None for a statistic that is undefined. Impossible input
(negative counts, more converters than users, a confidence or alpha outside (0, 1)) is a
programming error and raises ValueError.

All frequentist results are normal approximations, as in gbstats; sources are cited per function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from importlib import import_module
from numbers import Real


class LazyModule:
    """A module imported on first use: importing scipy takes ~0.4 s, which every command-line
    export and gunicorn worker paid, though only experiments need it."""

    def __init__(self, name: str):
        self._name, self._module = name, None

    def __getattr__(self, attribute: str):
        if self._module is None:
            self._module = import_module(self._name)
        return getattr(self._module, attribute)


integrate, optimize = LazyModule("scipy.integrate"), LazyModule("scipy.optimize")
special, stats = LazyModule("scipy.special"), LazyModule("scipy.stats")

SRM_THRESHOLD = 0.001
# Posterior mass left outside the integration range of chance_to_beat_control: far below the
# 0.001 accuracy promised, and it keeps the adaptive rule on the peak of a narrow posterior.
POSTERIOR_TAIL = 1e-12


@dataclass(frozen=True)
class Arm:
    """Summary counts of one variant."""

    name: str
    users: int
    converters: int

    @property
    def rate(self) -> float | None:
        return self.converters / self.users if self.users > 0 else None


@dataclass(frozen=True)
class Comparison:
    """One treatment against the control. Lifts are treatment minus control (absolute) and
    treatment / control - 1 (relative); intervals are two-sided at the requested confidence."""

    variant: str
    lift_abs: float | None
    lift_abs_ci_low: float | None
    lift_abs_ci_high: float | None
    lift_rel: float | None
    lift_rel_ci_low: float | None
    lift_rel_ci_high: float | None
    p_value: float | None
    p_value_adjusted: float | None  # Holm across all treatments of the experiment
    chance_to_beat_control: float | None
    error: str | None = None  # why some fields are None


@dataclass(frozen=True)
class SampleRatio:
    chi_square: float
    p_value: float
    expected: dict[str, float]  # expected users per variant, from the weights
    observed: dict[str, int]

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_THRESHOLD


# --- comparisons ---------------------------------------------------------------------------


def compare(control: Arm, treatment: Arm, confidence: float = 0.95) -> Comparison:
    """All statistics of one treatment against the control; p_value_adjusted = p_value, since a
    single comparison needs no multiplicity correction (compare_all adjusts across treatments)."""
    _z_two_sided(confidence)  # an invalid confidence is the caller's bug: raise before anything
    problem = _arm_problem(control, "control") or _arm_problem(treatment, "treatment")
    if problem:
        return Comparison(treatment.name, *[None] * 9, error=problem)
    notes: list[str] = []
    absolute = _estimate_and_bounds(
        absolute_lift_interval(control, treatment, confidence),
        collapsed_note="both rates are 0% or 100%: no variance, so no lift interval",
        notes=notes,
    )
    relative = _estimate_and_bounds(
        relative_lift_interval(control, treatment, confidence),
        collapsed_note="the delta-method variance of the relative lift is 0"
        " (treatment rate 0%, or both rates 100%): no relative-lift interval",
        notes=notes,
        undefined_note="control rate is 0: relative lift undefined",
    )
    p_value = two_proportion_p_value(control, treatment)
    if p_value is None:
        notes.append("pooled rate is 0% or 100%: no variance, so no p-value")
    return Comparison(
        treatment.name, *absolute, *relative, p_value, p_value,
        chance_to_beat_control(control, treatment),
        error="; ".join(notes) or None,
    )


def compare_all(
    control: Arm, treatments: list[Arm], confidence: float = 0.95
) -> list[Comparison]:
    """One Comparison per treatment, in order, with Holm-adjusted p-values. Treatments whose
    p-value is undefined are not hypotheses tested, so they do not count in Holm's m."""
    comparisons = [compare(control, treatment, confidence) for treatment in treatments]
    tested = [index for index, c in enumerate(comparisons) if c.p_value is not None]
    adjusted = holm_adjust([comparisons[index].p_value for index in tested])
    for index, p_value in zip(tested, adjusted, strict=True):
        comparisons[index] = replace(comparisons[index], p_value_adjusted=p_value)
    return comparisons


def _arm_problem(arm: Arm, role: str) -> str | None:
    problem = _count_problem(arm)
    if problem:
        return f"{role} {arm.name!r}: {problem}"
    return f"{role} has no users" if arm.users == 0 else None


def _estimate_and_bounds(
    interval: tuple[float, float, float] | None,
    collapsed_note: str,
    notes: list[str],
    undefined_note: str = "",
) -> tuple[float | None, float | None, float | None]:
    """A Wald interval of zero width is the approximation failing, not certainty: report the
    estimate without bounds."""
    if interval is None:
        notes.append(undefined_note)
        return None, None, None
    estimate, low, high = interval
    if low == high:
        notes.append(collapsed_note)
        return estimate, None, None
    return estimate, low, high


# --- frequentist building blocks -------------------------------------------------------------


def absolute_lift_interval(
    control: Arm, treatment: Arm, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """(p_t - p_c, low, high): the Wald interval with the unpooled standard error
    sqrt(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t) (Newcombe 1998, "Interval estimation for the
    difference between independent proportions", Stat. Med. 17:873, method 1). Zero width when
    both rates are 0 or 1. None when an arm has no users."""
    z = _z_two_sided(confidence)
    _check_counts(control, treatment)
    if control.users == 0 or treatment.users == 0:
        return None
    lift = treatment.rate - control.rate
    margin = z * math.sqrt(_rate_variance(control) + _rate_variance(treatment))
    return lift, lift - margin, lift + margin


def relative_lift_interval(
    control: Arm, treatment: Arm, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """(p_t/p_c - 1, low, high) by the delta method, as gbstats does (Deng, Knoblich & Lu 2018,
    "Applying the Delta Method in Metric Analytics", KDD): for independent arms
    var(p_t/p_c) ≈ var(p_t)/p_c² + p_t²·var(p_c)/p_c⁴ with var(p) = p(1-p)/n. The interval is
    estimate ± z·se on the lift itself, so it is symmetric and can reach below -100% when the
    control has few converters (no log transform, unlike Fieller's interval). None when an arm
    has no users or the control rate is 0."""
    z = _z_two_sided(confidence)
    _check_counts(control, treatment)
    if control.users == 0 or treatment.users == 0 or control.converters == 0:
        return None
    control_rate, treatment_rate = control.rate, treatment.rate
    variance = (
        _rate_variance(treatment) / control_rate**2
        + treatment_rate**2 * _rate_variance(control) / control_rate**4
    )
    lift = treatment_rate / control_rate - 1
    margin = z * math.sqrt(variance)
    return lift, lift - margin, lift + margin


def two_proportion_p_value(control: Arm, treatment: Arm) -> float | None:
    """Two-sided pooled z-test: z = (p_t - p_c) / sqrt(p̄(1-p̄)(1/n_c + 1/n_t)), p̄ the pooled rate.
    z² is Pearson's chi-square on the 2x2 table without continuity correction (Agresti,
    "Categorical Data Analysis"), so the p-values agree. None when the pooled variance is 0: an
    arm without users, or nobody (everybody) converting in both arms."""
    _check_counts(control, treatment)
    if control.users == 0 or treatment.users == 0:
        return None
    pooled_rate = (control.converters + treatment.converters) / (control.users + treatment.users)
    variance = pooled_rate * (1 - pooled_rate) * (1 / control.users + 1 / treatment.users)
    if variance <= 0:
        return None
    z = (treatment.rate - control.rate) / math.sqrt(variance)
    # The survival function keeps precision for tiny p-values, where 1 - cdf would give 0.
    return float(2 * stats.norm.sf(abs(z)))


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order (Holm 1979, "A simple
    sequentially rejective multiple test procedure", Scand. J. Stat. 6:65): the i-th smallest
    becomes max over j ≤ i of min(1, (m - j + 1)·p_(j)), so the adjustment preserves order."""
    for p_value in p_values:
        if not 0 <= p_value <= 1:  # also rejects NaN
            raise ValueError(f"p-values must be in [0, 1], not {p_value}")
    count = len(p_values)
    adjusted = [0.0] * count
    running_max = 0.0
    for rank, index in enumerate(sorted(range(count), key=p_values.__getitem__)):
        running_max = max(running_max, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running_max
    return adjusted


def _rate_variance(arm: Arm) -> float:
    rate = arm.rate
    return rate * (1 - rate) / arm.users


def _z_two_sided(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    return float(stats.norm.isf((1 - confidence) / 2))


def _count_problem(arm: Arm) -> str | None:
    if arm.users < 0 or arm.converters < 0:
        return f"negative counts ({arm.users} users, {arm.converters} converters)"
    if arm.converters > arm.users:
        return f"{arm.converters} converters but only {arm.users} users"
    return None


def _check_counts(*arms: Arm) -> None:
    for arm in arms:
        problem = _count_problem(arm)
        if problem:
            raise ValueError(f"arm {arm.name!r}: {problem}")


# --- Bayesian chance to beat control -----------------------------------------------------------


def chance_to_beat_control(control: Arm, treatment: Arm) -> float:
    """P(p_t > p_c) under independent Beta(1 + converters, 1 + non-converters) posteriors
    (uniform priors; Evan Miller, "Formulas for Bayesian A/B Testing", 2015).

    Computed as ∫ f_X(x)·F_Y(x) dx by adaptive quadrature rather than Miller's closed-form sum,
    which has one term per treatment converter (a hundred thousand at 1e6 users). X is the
    narrower posterior, so the other's CDF is smooth over the range integrated;
    P(T > C) = 1 - P(C > T) because ties have probability 0."""
    _check_counts(control, treatment)
    control_posterior, treatment_posterior = _posterior(control), _posterior(treatment)
    if _spread(treatment_posterior) <= _spread(control_posterior):
        return _probability_exceeds(treatment_posterior, control_posterior)
    return 1.0 - _probability_exceeds(control_posterior, treatment_posterior)


def _posterior(arm: Arm) -> tuple[float, float]:
    return 1.0 + arm.converters, 1.0 + arm.users - arm.converters


def _central_range(posterior: tuple[float, float]) -> tuple[float, float]:
    low, high = special.betaincinv(*posterior, [POSTERIOR_TAIL, 1 - POSTERIOR_TAIL])
    return float(low), float(high)


def _spread(posterior: tuple[float, float]) -> float:
    low, high = _central_range(posterior)
    return high - low


def _probability_exceeds(first: tuple[float, float], other: tuple[float, float]) -> float:
    """P(X > Y) for X ~ Beta(first), Y ~ Beta(other), over the range holding all of X's mass
    but 2·POSTERIOR_TAIL."""
    (a_first, b_first), (a_other, b_other) = first, other
    log_normaliser = special.betaln(a_first, b_first)

    def density_times_cdf(x: float) -> float:
        # In log space because B(a, b) underflows to 0 once counts reach the thousands.
        # xlogy/xlog1py give 0·log(0) = 0 for a posterior with no (non-)converters.
        log_density = special.xlogy(a_first - 1, x) + special.xlog1py(b_first - 1, -x)
        return math.exp(log_density - log_normaliser) * special.betainc(a_other, b_other, x)

    low, high = _central_range(first)
    # Where the other CDF climbs fastest; telling quad saves it hunting for the step.
    other_median = float(special.betaincinv(a_other, b_other, 0.5))
    points = [other_median] if low < other_median < high else None
    value, _ = integrate.quad(
        density_times_cdf, low, high, points=points, epsabs=1e-10, epsrel=1e-10, limit=200
    )
    return min(max(value, 0.0), 1.0)


# --- sample ratio mismatch ------------------------------------------------------------------


def sample_ratio_check(
    users: dict[str, int], weights: dict[str, float] | None = None
) -> SampleRatio:
    """Pearson chi-square goodness of fit of the users per variant against the expected split
    (Kohavi, Tang & Xu, "Trustworthy Online Controlled Experiments", 2020, on sample ratio
    mismatch; Fabijan et al. 2019 for the 0.001 threshold). Weights are normalised, equal when
    None. A variant with users but weight 0 (or absent from the weights) is a mismatch: chi-square
    is infinite. Fewer than two variants, or no users, cannot mismatch: p-value 1."""
    names = list(users) + [name for name in weights or {} if name not in users]
    observed = {name: int(users.get(name, 0)) for name in names}
    total = sum(observed.values())
    shares = _normalised_weights(names, weights)
    expected = {name: total * shares[name] for name in names}
    chi_square = sum(_chi_square_term(observed[name], expected[name]) for name in names)
    degrees_of_freedom = len(names) - 1
    if degrees_of_freedom < 1 or total == 0:
        return SampleRatio(0.0, 1.0, expected, observed)
    p_value = float(stats.chi2.sf(chi_square, degrees_of_freedom))
    return SampleRatio(float(chi_square), p_value, expected, observed)


def _normalised_weights(names: list[str], weights: dict[str, float] | None) -> dict[str, float]:
    if weights is None:
        return {name: 1 / len(names) for name in names}
    if any(not math.isfinite(weight) or weight < 0 for weight in weights.values()):
        raise ValueError(f"variant weights must be finite and non-negative: {weights}")
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(f"variant weights must not all be zero: {weights}")
    return {name: weights.get(name, 0.0) / total for name in names}


def _chi_square_term(observed: int, expected: float) -> float:
    if expected == 0:
        return 0.0 if observed == 0 else math.inf
    return (observed - expected) ** 2 / expected


# --- power and planning -----------------------------------------------------------------------
#
# One definition serves both directions, so that users_per_arm(p, minimum_detectable_effect(p, n))
# gives back n: the two-sided normal-approximation sample size for two proportions without
# continuity correction (Fleiss, Levin & Paik, "Statistical Methods for Rates and Proportions",
# 3rd ed. 2003, ch. 4):
#
#   n = (z_{1-α/2}·sqrt(2·p̄(1-p̄)) + z_{1-β}·sqrt(p1(1-p1) + p2(1-p2)))² / δ²,
#   p1 = control rate, p2 = p1 + δ, p̄ = (p1 + p2) / 2.
#
# The first term is the pooled standard error the z-test uses under H0, the second the unpooled
# one under the alternative. n falls monotonically as δ grows over (0, 1 - p1], so the minimum
# detectable effect (an upward lift, by convention) is the root of n(δ) = users per arm.


def users_per_arm(
    control_rate: float, absolute_effect: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Users needed in each arm to detect control_rate → control_rate + absolute_effect (which may
    be negative) with a two-sided test. None when the control rate is not strictly between 0
    and 1, the effect is 0, or the treated rate would leave [0, 1]."""
    _check_error_rates(alpha, power)
    if not (_is_number(control_rate) and _is_number(absolute_effect)):
        return None
    treated_rate = control_rate + absolute_effect
    if not 0 < control_rate < 1 or absolute_effect == 0 or not 0 <= treated_rate <= 1:
        return None
    needed = _fleiss_users(control_rate, treated_rate, alpha, power)
    # Rounding first: float noise of 1e-10 above an integer must not cost a whole user.
    return math.ceil(round(needed, 6))


def minimum_detectable_effect(
    control_rate: float, users_per_arm: int, alpha: float = 0.05, power: float = 0.8
) -> float | None:
    """The smallest upward absolute lift a two-sided test detects with the given power at this
    many users per arm. None when the control rate is not strictly between 0 and 1, there are no
    users, or not even a jump to a 100% rate would be detected."""
    _check_error_rates(alpha, power)
    if not (_is_number(control_rate) and _is_number(users_per_arm)):
        return None
    if not 0 < control_rate < 1 or users_per_arm <= 0:
        return None

    def surplus_users(effect: float) -> float:
        return _fleiss_users(control_rate, control_rate + effect, alpha, power) - users_per_arm

    largest_effect = 1 - control_rate
    if surplus_users(largest_effect) > 0:
        return None
    # n(δ) → ∞ as δ → 0, so the bracket's lower end has a positive surplus.
    return float(optimize.brentq(surplus_users, 1e-12, largest_effect, xtol=1e-15))


def _fleiss_users(control_rate: float, treated_rate: float, alpha: float, power: float) -> float:
    mean_rate = (control_rate + treated_rate) / 2
    null_spread = math.sqrt(2 * mean_rate * (1 - mean_rate))
    alternative_spread = math.sqrt(
        control_rate * (1 - control_rate) + treated_rate * (1 - treated_rate)
    )
    z_alpha, z_power = stats.norm.isf(alpha / 2), stats.norm.isf(1 - power)
    effect = treated_rate - control_rate
    return float((z_alpha * null_spread + z_power * alternative_spread) ** 2 / effect**2)


def _check_error_rates(alpha: float, power: float) -> None:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), not {alpha} and {power}")


def _is_number(value) -> bool:
    return isinstance(value, Real) and math.isfinite(value)
