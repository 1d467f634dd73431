"""The fairness metrics of one sensitive attribute: fairlearn's demographic parity difference and ratio and
equalized odds difference (fairlearn.metrics, binary predictions 0/1), each group's counts, and a percentile
bootstrap confidence interval per metric.

The bootstrap resamples records with replacement within each group (within each group and label for
equalized odds), so every resample keeps the groups' sizes, as the metrics are conditional on them. A group's
resampled count of positives is then binomial (n, observed rate): drawing that count directly is the same
distribution as drawing rows, in O(groups) per resample instead of O(records), so a large window stays
cheap. The generator is seeded: the same data gives the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
)

DEMOGRAPHIC_PARITY_DIFFERENCE = "demographicParityDifference"
DEMOGRAPHIC_PARITY_RATIO = "demographicParityRatio"
EQUALIZED_ODDS_DIFFERENCE = "equalizedOddsDifference"
# Whether a metric is breached above its bound (differences) or below it (the ratio).
BREACHED_ABOVE = {
    DEMOGRAPHIC_PARITY_DIFFERENCE: True,
    DEMOGRAPHIC_PARITY_RATIO: False,
    EQUALIZED_ODDS_DIFFERENCE: True,
}
BOOTSTRAP_SEED = 14


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Estimate:
    """A metric's point estimate and, when bootstrapped, its confidence interval."""

    metric: str
    value: float
    interval: Interval | None = None


@dataclass(frozen=True)
class GroupCounts:
    """One group of an attribute: its records, positive predictions and (with labels) the confusion counts."""

    group: str
    count: int
    selected: int
    positives: int = 0
    true_positives: int = 0
    false_positives: int = 0

    @property
    def negatives(self) -> int:
        return self.count - self.positives

    @property
    def selection_rate(self) -> float:
        return self.selected / self.count

    @property
    def true_positive_rate(self) -> float:
        return self.true_positives / self.positives if self.positives else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0


@dataclass(frozen=True)
class Fairness:
    """The groups a metric was computed over and its estimates (none with fewer than two groups)."""

    groups: tuple[GroupCounts, ...]
    estimates: tuple[Estimate, ...]


def group_counts(
    groups: Sequence[str], y_pred: Sequence[int], y_true: Sequence[int] | None = None
) -> tuple[GroupCounts, ...]:
    """Counts per group, sorted by group."""
    g = np.asarray(groups, dtype=object)
    pred = np.asarray(y_pred, dtype=np.int64)
    true = None if y_true is None else np.asarray(y_true, dtype=np.int64)
    out = []
    for name in sorted(set(g.tolist())):
        mask = g == name
        if true is None:
            out.append(GroupCounts(name, int(mask.sum()), int(pred[mask].sum())))
        else:
            t, p = true[mask], pred[mask]
            out.append(
                GroupCounts(
                    name,
                    int(mask.sum()),
                    int(p.sum()),
                    positives=int(t.sum()),
                    true_positives=int((t & p).sum()),
                    false_positives=int(((1 - t) & p).sum()),
                )
            )
    return tuple(out)


def _interval(samples: np.ndarray, confidence: float) -> Interval:
    tail = (1 - confidence) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    return Interval(float(low), float(high))


def _ratio(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """min/max selection rate, 1 (parity) where nobody is selected in any group."""
    return np.where(high > 0, low / np.where(high > 0, high, 1), 1.0)


def demographic_parity(
    groups: Sequence[str],
    y_pred: Sequence[int],
    *,
    bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = BOOTSTRAP_SEED,
) -> Fairness:
    """Demographic parity difference and ratio over the groups (fairlearn), with intervals when `bootstrap`
    resamples are asked for. The ratio is 1 when nobody is selected in any group (fairlearn: NaN)."""
    counts = group_counts(groups, y_pred)
    if len(counts) < 2:
        return Fairness(counts, ())
    g, pred = np.asarray(groups, dtype=object), np.asarray(y_pred, dtype=np.int64)
    # y_true is required by fairlearn's signature but not read by selection rates.
    difference = float(demographic_parity_difference(pred, pred, sensitive_features=g))
    ratio = float(demographic_parity_ratio(pred, pred, sensitive_features=g))
    if math.isnan(ratio) and all(c.selected == 0 for c in counts):
        ratio = 1.0
    if not bootstrap:
        return Fairness(
            counts,
            (Estimate(DEMOGRAPHIC_PARITY_DIFFERENCE, difference), Estimate(DEMOGRAPHIC_PARITY_RATIO, ratio)),
        )
    n = np.array([c.count for c in counts])
    rate = np.array([c.selection_rate for c in counts])
    rng = np.random.default_rng(seed)
    resampled = rng.binomial(n, rate, size=(bootstrap, len(counts))) / n
    low, high = resampled.min(axis=1), resampled.max(axis=1)
    return Fairness(
        counts,
        (
            Estimate(DEMOGRAPHIC_PARITY_DIFFERENCE, difference, _interval(high - low, confidence)),
            Estimate(DEMOGRAPHIC_PARITY_RATIO, ratio, _interval(_ratio(low, high), confidence)),
        ),
    )


def equalized_odds(
    groups: Sequence[str],
    y_true: Sequence[int],
    y_pred: Sequence[int],
    *,
    bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = BOOTSTRAP_SEED,
) -> Fairness:
    """Equalized odds difference (fairlearn, worst case of the true- and false-positive-rate gaps), with an
    interval when `bootstrap` resamples are asked for. A group without positive (or negative) labels has a
    rate of 0 there, as in fairlearn; the decision refuses to judge such a group."""
    counts = group_counts(groups, y_pred, y_true)
    if len(counts) < 2:
        return Fairness(counts, ())
    g = np.asarray(groups, dtype=object)
    true, pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    value = float(equalized_odds_difference(true, pred, sensitive_features=g))
    if not bootstrap:
        return Fairness(counts, (Estimate(EQUALIZED_ODDS_DIFFERENCE, value),))
    positives = np.array([c.positives for c in counts])
    negatives = np.array([c.negatives for c in counts])
    tpr = np.array([c.true_positive_rate for c in counts])
    fpr = np.array([c.false_positive_rate for c in counts])
    rng = np.random.default_rng(seed)
    shape = (bootstrap, len(counts))
    tpr_b = rng.binomial(positives, tpr, size=shape) / np.maximum(positives, 1)
    fpr_b = rng.binomial(negatives, fpr, size=shape) / np.maximum(negatives, 1)
    gaps = np.maximum(tpr_b.max(axis=1) - tpr_b.min(axis=1), fpr_b.max(axis=1) - fpr_b.min(axis=1))
    return Fairness(counts, (Estimate(EQUALIZED_ODDS_DIFFERENCE, value, _interval(gaps, confidence)),))
