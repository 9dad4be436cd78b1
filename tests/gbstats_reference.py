"""gbstats 0.8 as a reference: runs in its own virtual environment (.ci/setup-gbstats), given
per-variant sums as JSON on standard input, and prints its results as JSON. The tests call
results(cases) below; this file's __main__ part is what runs inside that environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DEFAULT_VENV = Path.home() / ".cache" / "growth-analytics" / "gbstats-venv"


def python() -> Path:
    return Path(os.environ.get("GBSTATS_VENV", DEFAULT_VENV)) / "bin" / "python"


def results(cases: list[dict]) -> list[dict]:
    """gbstats' answers for cases of {"kind": "mean"|"ratio"|"cuped", "control": ...,
    "treatment": ..., "sequential": tuning or None}."""
    answer = subprocess.run([str(python()), __file__], input=json.dumps(cases), text=True,
                            capture_output=True, check=True, timeout=120)
    return json.loads(answer.stdout)


def statistic(kind: str, sums: dict):
    from gbstats.models.statistics import (
        RatioStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )

    def mean(part):
        return SampleMeanStatistic(n=sums["n"], sum=part[0], sum_squares=part[1])

    if kind == "mean":
        return mean(sums["value"])
    if kind == "ratio":
        return RatioStatistic(n=sums["n"], m_statistic=mean(sums["value"]),
                              d_statistic=mean(sums["denominator"]),
                              m_d_sum_of_products=sums["products"])
    return RegressionAdjustedStatistic(n=sums["n"], post_statistic=mean(sums["value"]),
                                       pre_statistic=mean(sums["pre"]),
                                       post_pre_sum_of_products=sums["products"], theta=0)


def answer(case: dict) -> dict:
    from gbstats.bayesian.tests import EffectBayesianABTest
    from gbstats.frequentist.tests import (
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )

    def pair():
        return (statistic(case["kind"], case["control"]),
                statistic(case["kind"], case["treatment"]))

    if case.get("sequential"):
        test = SequentialTwoSidedTTest(
            *pair(), SequentialConfig(sequential_tuning_parameter=case["sequential"]))
    else:
        test = TwoSidedTTest(*pair())
    frequentist = test.compute_result()
    bayesian = EffectBayesianABTest(*pair()).compute_result()
    return {"lift_rel": frequentist.expected, "ci": list(frequentist.ci),
            "p_value": frequentist.p_value, "chance_to_win": bayesian.chance_to_win,
            "theta": getattr(test.stat_a, "theta", None)}


if __name__ == "__main__":
    print(json.dumps([answer(case) for case in json.load(sys.stdin)]))
