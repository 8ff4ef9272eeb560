"""Sub-scores and reason codes for a whole scored table at once, with NumPy.

The reference scorer (:func:`openscore.scoring.scorer.score_features`) explains one member;
a batch run explains every member from the points columns the engine computed, without a
Python loop over members, and must say exactly what the reference says:

- a dimension's points are the sum of its features' points; its 0–100 scale is the
  reference's own formula, evaluated once per distinct number of points (there are few) and
  spread back with an index, so the rounding is Python's, not an engine's;
- the reasons are the features with the most points below their best (``below > 0``),
  largest first, ties in the artefact's feature order (a stable sort), at most four.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.compile import points_column
from openscore.scoring.display import reason_sentence
from openscore.scoring.reasons import ProtectedReasonError, is_protected
from openscore.scoring.scorer import NEUTRAL_SCALE, dimensions_of

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

#: Reasons per member, as adverse-action notices give.
REASONS = 4


@dataclass(frozen=True)
class Breakdown:
    """Every member's sub-scores and principal reasons, column by column.

    ``reason_feature[i, j]`` is the artefact's index of member ``i``'s ``j``-th reason
    (-1 when the member has fewer reasons) and ``reason_below[i, j]`` its points below best
    (0 then); both have exactly ``reasons`` columns.
    """

    subscore_points: dict[str, Ints]
    subscore_scale: dict[str, Floats]
    reason_feature: Ints
    reason_below: Ints


def points_matrix(artefact: ScorecardArtefact, scored: pa.Table) -> Ints:
    """The scored table's points as a members x features integer matrix."""
    columns = [scored[points_column(f.name)].to_numpy().astype(np.int64) for f in artefact.features]
    return np.column_stack(columns) if columns else np.zeros((scored.num_rows, 0), np.int64)


def _scale(got: Ints, low: int, high: int) -> Floats:
    if high == low:
        return np.full(got.shape, NEUTRAL_SCALE)
    distinct, where = np.unique(got, return_inverse=True)
    # The reference's formula, in Python floats, once per distinct value.
    scales = [round(100.0 * (int(g) - low) / (high - low), 2) for g in distinct]
    return np.asarray(scales, dtype=np.float64)[where]


def breakdown(artefact: ScorecardArtefact, scored: pa.Table, reasons: int = REASONS) -> Breakdown:
    """Sub-scores and reasons of every row of a table scored by the compiled scorecard."""
    if protected := [f.name for f in artefact.features if is_protected(f.name)]:
        raise ProtectedReasonError(f"model reads protected attribute(s): {', '.join(protected)}")
    points = points_matrix(artefact, scored)
    points_of: dict[str, Ints] = {}
    scale_of: dict[str, Floats] = {}
    for dimension in dimensions_of(artefact):
        members = [i for i, f in enumerate(artefact.features) if f.dimension == dimension]
        got = points[:, members].sum(axis=1, dtype=np.int64)
        low = sum(artefact.features[i].worst_points for i in members)
        high = sum(artefact.features[i].best_points for i in members)
        points_of[dimension] = got
        scale_of[dimension] = _scale(got, low, high)
    best = np.asarray([f.best_points for f in artefact.features], dtype=np.int64)
    below = best[np.newaxis, :] - points
    order = np.argsort(-below, axis=1, kind="stable")[:, :reasons]
    chosen = np.take_along_axis(below, order, axis=1)
    if order.shape[1] < reasons:  # fewer features than reasons: pad with "no reason"
        pad = ((0, 0), (0, reasons - order.shape[1]))
        order, chosen = np.pad(order, pad), np.pad(chosen, pad)
    return Breakdown(
        subscore_points=points_of,
        subscore_scale=scale_of,
        reason_feature=np.where(chosen > 0, order, -1).astype(np.int64),
        reason_below=np.where(chosen > 0, chosen, 0).astype(np.int64),
    )


def reason_dicts(
    artefact: ScorecardArtefact,
    found: Breakdown,
    row: int,
    values: Mapping[str, list[Any]],
) -> list[dict[str, Any]]:
    """One member's reasons in the score record's shape (the reference's sentences).

    ``values`` holds each feature's column as a Python list (``Table.column(...).to_pylist()``).
    """
    result: list[dict[str, Any]] = []
    for index, below in zip(found.reason_feature[row], found.reason_below[row], strict=True):
        if index < 0:
            break
        feature = artefact.features[index]
        result.append(
            {
                "feature": feature.name,
                "points_below_best": int(below),
                "sentence": reason_sentence(feature, values[feature.name][row]),
                "evidence": [],
            }
        )
    return result
