"""Points to double the odds (PDO): the formulas that turn log-odds into integer points.

The score is ``offset + factor * ln(odds)`` with ``odds`` the good:bad odds, where

    factor = pdo / ln 2
    offset = base_score - factor * ln(base_odds)

so a member with good:bad odds of ``base_odds`` scores ``base_score`` and every ``pdo`` more
points double the odds. With a logistic regression on weights of evidence,
``ln(bad odds) = b0 + sum_i b_i * woe_i``, hence ``ln(good odds) = -b0 - sum_i b_i * woe_i``:
the intercept earns ``offset - factor * b0`` points and bin ``j`` of feature ``i`` earns
``-factor * b_i * woe_ij``. Each is rounded to an integer once, here, so every engine adds
the same integers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from openscore.scoring.artefact import Scaling


def intercept_points(scaling: Scaling, intercept: float) -> int:
    """The intercept's integer points: ``round(offset - factor * b0)``."""
    return round(scaling.offset - scaling.factor * intercept)


def bin_points(scaling: Scaling, coefficient: float, woe: NDArray[np.float64]) -> list[int]:
    """A feature's integer points per bin: ``round(-factor * b_i * woe_ij)``."""
    raw = -scaling.factor * coefficient * np.asarray(woe, dtype=np.float64)
    return [int(p) for p in np.rint(raw)]


def bad_probability(scaling: Scaling, total: NDArray[np.int64] | int) -> NDArray[np.float64]:
    """The probability of the bad outcome a total (before clipping) stands for."""
    log_good_odds = (np.asarray(total, dtype=np.float64) - scaling.offset) / scaling.factor
    return np.asarray(1.0 / (1.0 + np.exp(log_good_odds)), dtype=np.float64)
