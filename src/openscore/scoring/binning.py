"""One feature's bins: OptBinning finds the boundaries, we count and weigh them ourselves.

OptBinning (``OptimalBinning``) chooses splits or category groups under a monotonic trend of
the event rate. The counts, weights of evidence and information value are then computed here
from the bins as the artefact defines them (``searchsorted(splits, x, side="right")``), over
every training row, so that the estimator, the artefact and every engine agree on the bin of
each value by construction. Large data is binned on a sample and counted on all of it.

Each value gets a *code*: its bin (0..k-1), ``k`` for a missing value, ``k + 1`` for a
category unseen in training; a table indexed by code then gives WoE or points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from optbinning import OptimalBinning

Trend = str  # OptBinning's monotonic_trend: "ascending", "descending", "auto_asc_desc", ...

#: Below this many training rows, a missing or unseen value is not weighed on its own: its
#: weight of evidence is 0 (the population's odds) rather than a guess from a handful.
MIN_ROWS_FOR_OWN_WOE = 30


@dataclass(frozen=True)
class FeatureBins:
    """A fitted feature: its bins and each code's counts and weight of evidence."""

    name: str
    dtype: str
    splits: list[float]
    categories: list[list[str]]
    count: NDArray[np.int64]  # per code: bins, missing, other
    events: NDArray[np.int64]
    woe: NDArray[np.float64]
    iv: float

    @property
    def n_bins(self) -> int:
        return len(self.splits) + 1 if self.dtype == "numerical" else len(self.categories)

    def codes(self, column: NDArray[np.generic] | pd.Series) -> NDArray[np.intp]:
        """Each value's code: bin index, ``n_bins`` if missing, ``n_bins + 1`` if unseen."""
        return bin_codes(self.dtype, self.splits, self.categories, column)


def bin_codes(
    dtype: str,
    splits: list[float],
    categories: list[list[str]],
    column: NDArray[np.generic] | pd.Series,
) -> NDArray[np.intp]:
    """Codes of a column under the artefact's bin rule (see the module docstring)."""
    series = pd.Series(column)
    missing = series.isna().to_numpy(copy=True)
    if dtype == "numerical":
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        missing |= np.isnan(values)
        codes = np.searchsorted(np.asarray(splits, dtype=np.float64), values, side="right")
        codes[missing] = len(splits) + 1  # the number of bins: the missing code
        return np.asarray(codes, dtype=np.intp)
    n_bins = len(categories)
    lookup = {value: i for i, group in enumerate(categories) for value in group}
    mapped = series.astype("string").map(lookup)
    codes = mapped.fillna(n_bins + 1).to_numpy(dtype=np.intp, copy=True)
    codes[missing] = n_bins
    return np.asarray(codes, dtype=np.intp)


def _woe(count: NDArray[np.int64], events: NDArray[np.int64]) -> NDArray[np.float64]:
    """Weight of evidence ln(share of goods / share of bads) per code, with +0.5 smoothing."""
    goods = count - events
    total_goods, total_bads = max(int(goods.sum()), 1), max(int(events.sum()), 1)
    woe = np.log((goods + 0.5) / total_goods) - np.log((events + 0.5) / total_bads)
    return np.asarray(woe, dtype=np.float64)


def _boundaries(
    column: NDArray[np.generic],
    event: NDArray[np.bool_],
    dtype: str,
    trend: Trend,
    **options: object,
) -> tuple[list[float], list[list[str]]]:
    if dtype == "categorical":
        column = pd.Series(column).astype("string").to_numpy(dtype=object, na_value=np.nan)
    binning = OptimalBinning(dtype=dtype, monotonic_trend=trend, **options)
    binning.fit(column, event.astype(np.int64))
    if dtype == "numerical":
        return [float(s) for s in binning.splits], []
    return [], [sorted(str(v) for v in group) for group in binning.splits]


def fit_feature(
    name: str,
    column: NDArray[np.generic],
    event: NDArray[np.bool_],
    *,
    dtype: str,
    trend: Trend,
    sample: NDArray[np.intp] | None = None,
    neutral_missing: bool = False,
    **options: object,
) -> FeatureBins:
    """Bin one feature (on ``sample`` rows if given) and weigh the bins on every row."""
    rows = slice(None) if sample is None else sample
    present = ~pd.isna(pd.Series(column[rows])).to_numpy()
    splits: list[float] = []
    categories: list[list[str]] = []
    if present.any() and len(np.unique(event[rows][present])) == 2:
        splits, categories = _boundaries(
            column[rows][present], event[rows][present], dtype, trend, **options
        )
    if dtype == "categorical" and not categories:
        seen = pd.Series(column[rows][present]).astype("string").unique()
        categories = [sorted(str(v) for v in seen)] if len(seen) else [["(none)"]]
    codes = bin_codes(dtype, splits, categories, column)
    n_codes = (len(splits) + 1 if dtype == "numerical" else len(categories)) + 2
    count = np.bincount(codes, minlength=n_codes).astype(np.int64)
    events = np.bincount(codes, weights=event, minlength=n_codes).astype(np.int64)
    woe = _woe(count, events)
    few = count < MIN_ROWS_FOR_OWN_WOE
    few[: n_codes - 2] = False
    woe[few] = 0.0
    if neutral_missing:
        woe[n_codes - 2] = 0.0
    share_goods = (count - events) / max(int((count - events).sum()), 1)
    share_bads = events / max(int(events.sum()), 1)
    iv = float(np.sum((share_goods - share_bads) * woe))
    return FeatureBins(name, dtype, splits, categories, count, events, woe, iv)


def bin_label(bins: FeatureBins, code: int) -> str:
    """A reader's label for a code."""
    k = bins.n_bins
    if code == k:
        return "missing"
    if code == k + 1:
        return "other"
    if bins.dtype == "categorical":
        return "{" + ", ".join(bins.categories[code]) + "}"
    low = "-inf" if code == 0 else f"{bins.splits[code - 1]:g}"
    high = "inf" if code == len(bins.splits) else f"{bins.splits[code]:g}"
    return f"[{low}, {high})"


def event_rate(count: int, events: int) -> float | None:
    return None if count == 0 else events / count


def finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0
