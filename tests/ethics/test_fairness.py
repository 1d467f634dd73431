"""The fairness metrics match values worked out by hand on small tables, and the bootstrap intervals behave
as a percentile bootstrap of records resampled within groups does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.ethics.fairness import (
    DEMOGRAPHIC_PARITY_DIFFERENCE,
    DEMOGRAPHIC_PARITY_RATIO,
    EQUALIZED_ODDS_DIFFERENCE,
    GroupCounts,
    demographic_parity,
    equalized_odds,
)


def table(spec: dict[str, list[tuple[int, int]]]) -> tuple[list[str], list[int], list[int]]:
    """groups, y_true, y_pred from {group: [(label, prediction), ...]}."""
    groups, y_true, y_pred = [], [], []
    for group, rows in spec.items():
        for label, prediction in rows:
            groups.append(group)
            y_true.append(label)
            y_pred.append(prediction)
    return groups, y_true, y_pred


# Group a: 5 rows, 4 predicted positive; labels 1,1,1,0,0 with predictions 1,1,0,1,1
#   → selection 4/5 = 0.8, TPR 2/3, FPR 2/2 = 1.
# Group b: 4 rows, 1 predicted positive; labels 1,1,0,0 with predictions 1,0,0,0
#   → selection 1/4 = 0.25, TPR 1/2, FPR 0/2 = 0.
# DP difference 0.8 − 0.25 = 0.55; DP ratio 0.25 / 0.8 = 0.3125;
# EO difference max(|2/3 − 1/2|, |1 − 0|) = 1.
SMALL = {
    "a": [(1, 1), (1, 1), (1, 0), (0, 1), (0, 1)],
    "b": [(1, 1), (1, 0), (0, 0), (0, 0)],
}


def values(fairness: object) -> dict[str, float]:
    return {e.metric: e.value for e in fairness.estimates}  # type: ignore[attr-defined]


def test_demographic_parity_on_a_small_table() -> None:
    groups, _, y_pred = table(SMALL)
    result = demographic_parity(groups, y_pred)
    assert values(result) == pytest.approx(
        {DEMOGRAPHIC_PARITY_DIFFERENCE: 0.55, DEMOGRAPHIC_PARITY_RATIO: 0.3125}
    )
    assert result.groups == (GroupCounts("a", 5, 4), GroupCounts("b", 4, 1))


def test_equalized_odds_on_a_small_table() -> None:
    groups, y_true, y_pred = table(SMALL)
    result = equalized_odds(groups, y_true, y_pred)
    assert values(result) == pytest.approx({EQUALIZED_ODDS_DIFFERENCE: 1.0})
    a, b = result.groups
    assert (a.positives, a.true_positives, a.false_positives, a.negatives) == (3, 2, 2, 2)
    assert (a.true_positive_rate, a.false_positive_rate) == pytest.approx((2 / 3, 1.0))
    assert (b.true_positive_rate, b.false_positive_rate) == pytest.approx((0.5, 0.0))


def test_three_groups_compare_the_extremes() -> None:
    # Selection rates 1/2, 3/4, 1/4 → difference 3/4 − 1/4 = 0.5, ratio (1/4)/(3/4) = 1/3.
    # TPR: x 1/1, y 2/2, z 0/1 → gap 1; FPR: x 0/1, y 1/2, z 1/3 → gap 1/2; EO difference 1.
    spec = {
        "x": [(1, 1), (0, 0)],
        "y": [(1, 1), (1, 1), (0, 1), (0, 0)],
        "z": [(1, 0), (0, 1), (0, 0), (0, 0)],
    }
    groups, y_true, y_pred = table(spec)
    assert values(demographic_parity(groups, y_pred)) == pytest.approx(
        {DEMOGRAPHIC_PARITY_DIFFERENCE: 0.5, DEMOGRAPHIC_PARITY_RATIO: 1 / 3}
    )
    assert values(equalized_odds(groups, y_true, y_pred)) == pytest.approx({EQUALIZED_ODDS_DIFFERENCE: 1.0})


def test_parity_when_nobody_is_selected_and_nothing_to_compare_with_one_group() -> None:
    assert values(demographic_parity(["a", "a", "b", "b"], [0, 0, 0, 0])) == {
        DEMOGRAPHIC_PARITY_DIFFERENCE: 0.0,
        DEMOGRAPHIC_PARITY_RATIO: 1.0,  # fairlearn says NaN; nobody favoured is parity
    }
    one = demographic_parity(["a", "a"], [1, 0], bootstrap=100)
    assert one.estimates == () and one.groups == (GroupCounts("a", 2, 1),)


def test_a_deterministic_table_has_an_interval_of_one_point() -> None:
    # Every record of a is selected and none of b: every resample is the same, so is every statistic.
    groups = ["a"] * 40 + ["b"] * 40
    result = demographic_parity(groups, [1] * 40 + [0] * 40, bootstrap=200)
    difference, ratio = result.estimates
    assert (difference.value, difference.interval.low, difference.interval.high) == (1.0, 1.0, 1.0)  # type: ignore[union-attr]
    assert (ratio.value, ratio.interval.low, ratio.interval.high) == (0.0, 0.0, 0.0)  # type: ignore[union-attr]


def test_the_bootstrap_is_seeded_and_narrows_with_more_records() -> None:
    def interval(n: int) -> tuple[float, float]:
        groups = ["a"] * n + ["b"] * n
        predictions = [int(i % 10 < 3) for i in range(n)] + [int(i % 10 < 6) for i in range(n)]
        estimate = demographic_parity(groups, predictions, bootstrap=500).estimates[0]
        assert estimate.value == pytest.approx(0.3)
        assert estimate.interval is not None
        return estimate.interval.low, estimate.interval.high

    assert interval(100) == interval(100)
    small, large = interval(100), interval(2000)
    assert small[0] < large[0] <= 0.3 <= large[1] < small[1]


def test_the_binomial_shortcut_is_the_row_resampling_bootstrap() -> None:
    # Resampling rows within each group, explicitly, gives the same interval (up to Monte Carlo error).
    n_a, n_b = 60, 90
    pred_a = np.array([int(i % 3 == 0) for i in range(n_a)])
    pred_b = np.array([int(i % 5 < 3) for i in range(n_b)])
    rng = np.random.default_rng(7)
    samples = 4000
    rate_a = pred_a[rng.integers(0, n_a, size=(samples, n_a))].mean(axis=1)
    rate_b = pred_b[rng.integers(0, n_b, size=(samples, n_b))].mean(axis=1)
    explicit = np.quantile(np.abs(rate_a - rate_b), [0.025, 0.975])
    groups = ["a"] * n_a + ["b"] * n_b
    shortcut = demographic_parity(groups, [*pred_a, *pred_b], bootstrap=samples).estimates[0].interval
    assert shortcut is not None
    assert (shortcut.low, shortcut.high) == pytest.approx(tuple(explicit), abs=0.02)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.booleans(), st.booleans()), min_size=4, max_size=60).filter(
        lambda rows: len({g for g, _, _ in rows}) >= 2
    )
)
def test_group_rates_from_our_counts_reproduce_fairlearn(rows: list[tuple[str, bool, bool]]) -> None:
    # The bootstrap computes from the counts; with the counts as observed, the statistics are fairlearn's.
    groups = [g for g, _, _ in rows]
    y_true = [int(t) for _, t, _ in rows]
    y_pred = [int(p) for _, _, p in rows]
    parity = demographic_parity(groups, y_pred)
    rates = [c.selection_rate for c in parity.groups]
    got = values(parity)
    assert got[DEMOGRAPHIC_PARITY_DIFFERENCE] == pytest.approx(max(rates) - min(rates))
    assert got[DEMOGRAPHIC_PARITY_RATIO] == pytest.approx(min(rates) / max(rates) if max(rates) else 1.0)
    odds = equalized_odds(groups, y_true, y_pred)
    tpr = [c.true_positive_rate for c in odds.groups]
    fpr = [c.false_positive_rate for c in odds.groups]
    assert values(odds)[EQUALIZED_ODDS_DIFFERENCE] == pytest.approx(
        max(max(tpr) - min(tpr), max(fpr) - min(fpr))
    )
