"""The test behind the Δ column's noise mark: Welch's two-sided t-test at 95 %."""

from __future__ import annotations

import pytest

from analysis.noise import ALPHA, welch_p_value, within_noise


def test_welch_matches_the_hand_computed_value() -> None:
    # means 2 and 5, variances 1 and 1: t = -3/sqrt(2/3) = -3.674, Welch df = 4 -> p = 0.0213
    assert welch_p_value([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == pytest.approx(0.02131, abs=1e-4)


def test_unequal_variances_lower_the_degrees_of_freedom() -> None:
    # the same means and t as a pooled test would see, but one side is noisy: Welch is stricter
    steady, noisy = [10.0, 10.1, 9.9], [10.0, 13.0, 7.0]
    p = welch_p_value(steady, [v + 1.5 for v in noisy])
    assert p is not None and p > ALPHA and within_noise(p)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([1.0], [1.0, 2.0], None),  # one seed: no spread to test against
        ([1.0, 2.0], [3.0], None),
        ([2.0, 2.0], [2.0, 2.0], 1.0),  # nothing varies and nothing differs
        ([2.0, 2.0], [3.0, 3.0], 0.0),  # nothing varies, the means differ
    ],
)
def test_edge_cases(a: list[float], b: list[float], expected: float | None) -> None:
    assert welch_p_value(a, b) == expected


def test_untested_is_never_called_within_noise() -> None:
    assert not within_noise(None)
    assert within_noise(ALPHA) and not within_noise(ALPHA / 2)
