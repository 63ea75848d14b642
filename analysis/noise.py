"""Whether a difference of means is within seed noise: Welch's two-sided t-test.

A Δ entry compares a row's seeds with the baseline row's seeds. Welch's test does not assume
equal variances, which two different models rarely have. With fewer than two seeds on either side
there is no spread to test against, and the Δ is reported as untested rather than as significant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: two-sided significance level: a Δ with p >= ALPHA is within noise (a 95 % test)
ALPHA = 0.05
TEST = "Welch's t-test, two-sided, p ≥ 0.05"


def welch_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """The two-sided p-value of Welch's t-test for equal means of ``a`` and ``b``.

    Returns:
        The p-value in [0, 1]; None when either side has fewer than two values. When neither
        side varies at all, equal means give 1 and different means give 0.
    """
    if len(a) < 2 or len(b) < 2:
        return None
    from scipy import stats  # import on use: a table without a Δ column never needs it

    mean_a, mean_b = math.fsum(a) / len(a), math.fsum(b) / len(b)
    var_a = math.fsum((x - mean_a) ** 2 for x in a) / (len(a) - 1)
    var_b = math.fsum((x - mean_b) ** 2 for x in b) / (len(b) - 1)
    if var_a == 0.0 and var_b == 0.0:
        return 1.0 if mean_a == mean_b else 0.0
    result = stats.ttest_ind(list(a), list(b), equal_var=False)
    return float(result.pvalue)


def within_noise(p_value: float | None) -> bool:
    """Whether a tested difference is within noise (an untested one is not called either way)."""
    return p_value is not None and p_value >= ALPHA
