"""A forecast of an endpoint's invocations per hour of the coming week, from its hourly history.

Two seasonal models from statsmodels, both with the weekly cycle (168 hours) the ModelEndpoint schedule
repeats on:

- `holt-winters`: additive Holt-Winters exponential smoothing (ExponentialSmoothing, damped additive trend,
  additive seasonality of period 168), fitted by maximum likelihood;
- `mstl`: MSTL decomposition with daily (24) and weekly (168) seasonal periods; each seasonal component is
  carried forward from its last cycle, the deseasonalised rest (trend + remainder) by simple exponential
  smoothing.

aiplane uses DEFAULT_METHOD; docs/rightsizing.md gives the backtest error of both on the shipped example
history, which is why (`aiplane rightsize --backtest` prints both, so the choice is re-checked on any
history).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from aiplane.finops.weekly import HOURS_PER_WEEK
from aiplane.rightsizing.history import Sample

# Both models need two full weekly cycles to estimate the weekly shape (statsmodels refuses fewer for
# Holt-Winters' initial seasonal state, and MSTL's STL needs two periods of the longest season).
MIN_WEEKS = 2
MIN_HOURS = MIN_WEEKS * HOURS_PER_WEEK
METHODS = ("holt-winters", "mstl")
DEFAULT_METHOD = "holt-winters"


class TooLittleHistory(ValueError):
    """The history cannot support a weekly forecast; the message says why."""


@dataclass(frozen=True)
class Forecast:
    method: str
    start: datetime  # the first forecast hour (UTC)
    values: tuple[float, ...]  # invocations per hour, from start on, never negative

    def hour_of_week(self, index: int) -> int:
        at = self.start + timedelta(hours=index)
        return at.weekday() * 24 + at.hour


def hourly(samples: Sequence[Sample]) -> tuple[datetime, list[float]]:
    """A gap-free hourly series from the first to the last sample; a missing hour takes the value of the same
    hour a week earlier (else the previous hour): the weekly shape is what the models learn, so a hole filled
    from the same hour of the week bends it least."""
    if not samples:
        raise TooLittleHistory("no invocations history")
    start = samples[0].at
    hours = int((samples[-1].at - start).total_seconds() // 3600) + 1
    by_index = {int((s.at - start).total_seconds() // 3600): s.value for s in samples}
    values: list[float] = []
    for i in range(hours):
        if i in by_index:
            values.append(by_index[i])
        elif i >= HOURS_PER_WEEK:
            values.append(values[i - HOURS_PER_WEEK])
        else:
            values.append(values[-1] if values else 0.0)
    return start, values


def check_enough(samples: Sequence[Sample]) -> None:
    if len(samples) < MIN_HOURS:
        days = len(samples) / 24
        raise TooLittleHistory(
            f"{len(samples)} hourly invocation samples ({days:.1f} days); a weekly forecast needs {MIN_HOURS} "
            f"({MIN_WEEKS} full weeks)"
        )


def forecast(samples: Sequence[Sample], horizon: int = HOURS_PER_WEEK, method: str = DEFAULT_METHOD) -> Forecast:
    """Invocations per hour for the `horizon` hours after the last sample."""
    check_enough(samples)
    start, values = hourly(samples)
    series = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        # statsmodels warns about convergence on flat stretches; the fit is still usable and the backtest judges it.
        warnings.simplefilter("ignore")
        if method == "holt-winters":
            predicted = _holt_winters(series, horizon)
        elif method == "mstl":
            predicted = _mstl(series, horizon)
        else:
            raise ValueError(f"unknown forecast method {method!r}; known: {', '.join(METHODS)}")
    first = start + timedelta(hours=len(values))
    return Forecast(method, first, tuple(max(float(v), 0.0) for v in predicted))


def _holt_winters(series: np.ndarray, horizon: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        series, trend="add", damped_trend=True, seasonal="add", seasonal_periods=HOURS_PER_WEEK,
        initialization_method="estimated",
    )
    return np.asarray(model.fit().forecast(horizon))


def _mstl(series: np.ndarray, horizon: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing
    from statsmodels.tsa.seasonal import MSTL

    result = MSTL(series, periods=(24, HOURS_PER_WEEK)).fit()
    seasonal = np.asarray(result.seasonal)  # columns: the daily, then the weekly component
    rest = series - seasonal.sum(axis=1)
    level = np.asarray(SimpleExpSmoothing(rest, initialization_method="estimated").fit().forecast(horizon))
    out = level.copy()
    for column, period in enumerate((24, HOURS_PER_WEEK)):
        last_cycle = seasonal[-period:, column]
        out += np.array([last_cycle[i % period] for i in range(horizon)])
    return out


def mape(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Mean absolute percentage error, in percent, over the hours with traffic (an hour with no invocations
    has no percentage error)."""
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a > 0]
    if not pairs:
        raise ValueError("no hour with traffic to measure the error on")
    return 100 * sum(abs(a - p) / a for a, p in pairs) / len(pairs)
