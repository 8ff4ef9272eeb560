"""Hand-made scorecards for the batch tests: bins from a feature table's quantiles, points by
the catalogue's direction, so every bin, the missing value and clipping all occur."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa

from openscore.features.catalogue import FEATURES, Direction
from openscore.scoring.artefact import ScorecardArtefact

CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def feature_entry(name: str, splits: list[float], points: list[int], **more: Any) -> dict[str, Any]:
    """One numerical feature of an artefact."""
    spec = next(s for s in FEATURES if s.name == name)
    return {
        "name": name,
        "dimension": spec.dimension.value,
        "dtype": "numerical",
        "direction": spec.direction.value,
        "actionable": spec.actionable,
        "description": spec.description,
        "splits": splits,
        "points": points,
        "missing_points": more.pop("missing_points", -3),
        "other_points": more.pop("other_points", -3),
        **more,
    }


def artefact_from(
    entries: list[dict[str, Any]], intercept: int = 560, **more: Any
) -> ScorecardArtefact:
    return ScorecardArtefact.model_validate(
        {
            "model_id": more.pop("model_id", "sc-handmade-1"),
            "kind": "city",
            "created_at": CREATED,
            "target": "default_12m",
            "features": entries,
            "intercept_points": intercept,
            **more,
        }
    )


def quantile_artefact(features: pa.Table, step: int = 9, **more: Any) -> ScorecardArtefact:
    """Every catalogue feature with up to three splits at its quantiles, points rising with
    the better direction (``step`` points a bin), missing values a little below the middle."""
    entries = []
    for position, spec in enumerate(FEATURES):
        values = features[spec.name].to_numpy(zero_copy_only=False).astype(float)
        values = values[~np.isnan(values)]
        splits = sorted(set(np.quantile(values, [0.25, 0.5, 0.8]).tolist())) if len(values) else []
        ranks = range(len(splits) + 1)
        if spec.direction is Direction.higher_is_worse:
            ranks = range(len(splits), -1, -1)
        scale = step + position % 4
        points = [scale * r - scale for r in ranks]
        entries.append(feature_entry(spec.name, splits, points, missing_points=-position % 7))
    return artefact_from(entries, **more)
