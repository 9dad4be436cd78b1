"""Statistics of mean and ratio metrics (revenue per user, orders per user, AOV), as GrowthBook's
stats engine computes them (gbstats 0.8), from per-variant sums only: a query returns n, the sum
and the sum of squares per variant, and nothing per user leaves the database.

Sources of the formulas:
- sample mean and variance, the ratio's delta method and CUPED's regression adjustment with a
  pooled theta: gbstats.models.statistics (SampleMeanStatistic, RatioStatistic,
  RegressionAdjustedStatistic, compute_theta);
- relative lift, its delta-method variance and the Welch-Satterthwaite degrees of freedom:
  gbstats.frequentist.tests (frequentist_diff, frequentist_variance, TwoSidedTTest);
- always-valid intervals and p-values: Waudby-Smith et al. 2023, "Time-uniform central limit
  theory and asymptotic confidence sequences", eq. 9, 155 and 161
  (https://arxiv.org/abs/2103.06476), as gbstats' SequentialTwoSidedTTest uses them;
- chance to beat control: the Gaussian posterior of the relative lift under a flat prior
  (gbstats.bayesian.tests.EffectBayesianABTest, improper prior).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

DEFAULT_TUNING = 5000  # gbstats' sequential_tuning_parameter


@dataclass(frozen=True)
class Moments:
    """One variant's values of a metric per user: count, sum, sum of squares."""

    n: int
    total: float
    total_squares: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        """The sample variance (n - 1 in the denominator)."""
        if self.n <= 1:
            return 0.0
        return (self.total_squares - self.total ** 2 / self.n) / (self.n - 1)


def covariance(n: int, first: Moments, second: Moments, sum_of_products: float) -> float:
    if n <= 1:
        return 0.0
    return (sum_of_products - first.total * second.total / n) / (n - 1)


@dataclass(frozen=True)
class Ratio:
    """A ratio metric per variant (AOV: revenue over orders), by the delta method."""

    numerator: Moments
    denominator: Moments
    sum_of_products: float

    @property
    def n(self) -> int:
        return self.numerator.n

    @property
    def mean(self) -> float:
        return self.numerator.total / self.denominator.total if self.denominator.total else 0.0

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        m, d = self.numerator, self.denominator
        if d.mean == 0 or self.n <= 1:
            return 0.0
        cov = covariance(self.n, m, d, self.sum_of_products)
        return (m.variance / d.mean ** 2 - 2 * cov * m.mean / d.mean ** 3
                + m.mean ** 2 * d.variance / d.mean ** 4)


@dataclass(frozen=True)
class Adjusted:
    """CUPED: the metric after assignment, less theta times the same metric before it."""

    post: Moments
    pre: Moments
    sum_of_products: float
    theta: float = 0.0

    @property
    def n(self) -> int:
        return self.post.n

    @property
    def mean(self) -> float:
        return self.post.mean - self.theta * self.pre.mean

    @property
    def unadjusted_mean(self) -> float:
        return self.post.mean

    @property
    def variance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.post.variance + self.theta ** 2 * self.pre.variance
                - 2 * self.theta * covariance(self.n, self.post, self.pre, self.sum_of_products))


def pooled_theta(control: Adjusted, treatment: Adjusted) -> float:
    """The regression slope of post on pre over both variants together (gbstats' compute_theta);
    0 when either has no variance."""
    n = control.n + treatment.n
    post = Moments(n, control.post.total + treatment.post.total,
                   control.post.total_squares + treatment.post.total_squares)
    pre = Moments(n, control.pre.total + treatment.pre.total,
                  control.pre.total_squares + treatment.pre.total_squares)
    if pre.variance == 0 or post.variance == 0:
        return 0.0
    products = control.sum_of_products + treatment.sum_of_products
    return covariance(n, post, pre, products) / pre.variance


def variance_reduction(control: Adjusted, treatment: Adjusted) -> float:
    """The share of the relative lift's variance that CUPED removed (0 to 1)."""
    theta = pooled_theta(control, treatment)
    unadjusted = lift_variance(Adjusted(control.post, control.pre, control.sum_of_products),
                               Adjusted(treatment.post, treatment.pre, treatment.sum_of_products))
    adjusted = lift_variance(Adjusted(control.post, control.pre, control.sum_of_products, theta),
                             Adjusted(treatment.post, treatment.pre, treatment.sum_of_products,
                                      theta))
    return 1 - adjusted / unadjusted if unadjusted > 0 else 0.0


@dataclass(frozen=True)
class LiftTest:
    """A treatment against control. Lifts are fractions (0.05 is +5%)."""

    lift_abs: float
    lift_rel: float
    ci_low: float
    ci_high: float
    p_value: float
    chance_to_beat_control: float


def lift_variance(control, treatment) -> float:
    """The delta-method variance of the relative lift (gbstats' frequentist_variance)."""
    base = control.unadjusted_mean
    return (treatment.variance / (base ** 2 * treatment.n)
            + control.variance * treatment.unadjusted_mean ** 2 / (base ** 4 * control.n))


def welch_dof(control, treatment) -> float:
    a, b = control.variance / control.n, treatment.variance / treatment.n
    return (a + b) ** 2 / (a ** 2 / (control.n - 1) + b ** 2 / (treatment.n - 1))


def relative_lift_test(control, treatment, alpha: float = 0.05,
                       sequential_tuning: float | None = None) -> LiftTest | None:
    """The relative lift of a mean, ratio or CUPED metric with its interval, its two-sided
    p-value and the chance to beat control; None when the control's mean is 0 or a variant has
    no variance (no test can be made). `sequential_tuning` makes the interval and p-value
    always valid (safe to look at every day)."""
    if isinstance(control, Adjusted) and isinstance(treatment, Adjusted):
        theta = pooled_theta(control, treatment)
        control = Adjusted(control.post, control.pre, control.sum_of_products, theta)
        treatment = Adjusted(treatment.post, treatment.pre, treatment.sum_of_products, theta)
    if control.mean == 0 or control.unadjusted_mean == 0 \
            or control.variance <= 0 or treatment.variance <= 0:
        return None
    lift = (treatment.mean - control.mean) / control.unadjusted_mean
    variance = lift_variance(control, treatment)
    if sequential_tuning:
        width, p_value = always_valid(lift, variance, control.n + treatment.n, alpha,
                                      sequential_tuning)
    else:
        dof = welch_dof(control, treatment)
        width = float(stats.t.ppf(1 - alpha / 2, dof)) * math.sqrt(variance)
        p_value = 2 * stats.t.sf(abs(lift) / math.sqrt(variance), dof)
    return LiftTest(
        lift_abs=treatment.mean - control.mean, lift_rel=lift, ci_low=lift - width,
        ci_high=lift + width, p_value=float(p_value),
        chance_to_beat_control=float(stats.norm.sf(0, lift, math.sqrt(variance))),
    )


def always_valid(lift: float, variance: float, n: int, alpha: float,
                 tuning: float) -> tuple[float, float]:
    """The half-width and p-value of an asymptotic confidence sequence (Waudby-Smith et al.
    2023, eq. 9 and 155, with rho from eq. 161)."""
    rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)
    spread = n * rho ** 2 + 1
    width = math.sqrt(variance * n) * math.sqrt(
        2 * spread * math.log(math.sqrt(spread) / alpha) / (n * rho) ** 2)
    evalue = math.exp(rho ** 2 * (lift ** 2 * n / variance) / (2 * spread)) / math.sqrt(spread)
    return width, min(1 / evalue, 1.0)


def users_per_variant(mean: float, variance: float, relative_effect: float, alpha: float = 0.05,
                      power: float = 0.8) -> int | None:
    """Users needed in each variant to detect a relative lift of a mean with a two-sided test,
    both variants sharing the control's variance: n = 2 (z₁₋α/₂ + z_power)² σ² / (δ μ)²
    (Kohavi, Tang and Xu, Trustworthy Online Controlled Experiments, ch. 17). None when the
    mean or the effect is 0."""
    if not mean or not relative_effect or variance <= 0:
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(round(2 * z ** 2 * variance / (relative_effect * mean) ** 2, 6))
