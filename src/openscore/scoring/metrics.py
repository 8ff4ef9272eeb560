"""How well a scorecard separates goods from bads, and how its scores are spread."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score, roc_curve

from openscore.scoring.artefact import ScorecardArtefact


def auc(bad: ArrayLike, risk: ArrayLike) -> float:
    """Area under the ROC curve of ``risk`` (higher = more likely bad) against ``bad``."""
    return float(roc_auc_score(np.asarray(bad, dtype=bool), np.asarray(risk, dtype=float)))


def ks(bad: ArrayLike, risk: ArrayLike) -> float:
    """Kolmogorov–Smirnov statistic: the largest gap between the bads' and goods' CDFs."""
    fpr, tpr, _ = roc_curve(np.asarray(bad, dtype=bool), np.asarray(risk, dtype=float))
    return float(np.max(tpr - fpr))


def discrimination(bad: ArrayLike, scores: ArrayLike) -> dict[str, float]:
    """AUC, KS and Gini (2 AUC - 1) of scores, where a *lower* score means riskier."""
    risk = -np.asarray(scores, dtype=float)
    area = auc(bad, risk)
    return {"auc": round(area, 6), "ks": round(ks(bad, risk), 6), "gini": round(2 * area - 1, 6)}


def band_shares(artefact: ScorecardArtefact, scores: ArrayLike) -> dict[str, float]:
    """The share of scores in each band, in band order."""
    values = np.asarray(scores, dtype=np.int64)
    lowers = np.asarray([b.lower for b in artefact.bands])
    index = np.searchsorted(lowers, values, side="right") - 1
    index = np.clip(index, 0, len(lowers) - 1)
    counts = np.bincount(index, minlength=len(lowers))
    total = max(int(counts.sum()), 1)
    return {b.name: round(int(c) / total, 6) for b, c in zip(artefact.bands, counts, strict=True)}


def deciles(scores: ArrayLike) -> list[float]:
    """The 10th, 20th, ... 90th percentiles of the scores."""
    values = np.asarray(scores, dtype=float)
    return [float(q) for q in np.percentile(values, np.arange(10, 100, 10))]


def psi(expected: Sequence[float], actual: Sequence[float], floor: float = 1e-4) -> float:
    """Population stability index sum((a - e) ln(a / e)) over shares (each floored)."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, floor), max(a, floor)
        total += (a - e) * math.log(a / e)
    return round(total, 6)


def histogram(scores: ArrayLike, low: int, high: int, width: int = 25) -> list[tuple[int, int]]:
    """Counts per score bucket of ``width`` points from ``low`` to ``high``: (bucket start, n)."""
    values = np.asarray(scores, dtype=np.int64)
    edges = np.arange(low, high + width, width)
    counts: NDArray[np.int64] = np.histogram(values, bins=edges)[0]
    return [(int(edge), int(n)) for edge, n in zip(edges[:-1], counts, strict=True)]
