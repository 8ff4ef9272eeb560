"""The reference scorer: one member's features in, score, band, sub-scores and reasons out.

Plain Python over the artefact, used by explain and what-if, by the service's online
rescoring, and as the reference every engine's compiled scorer is compared with.

Reconciliation: ``intercept_points + sum(sub-score points) == total`` always, and
``score = clip(total, min_score, max_score)``; when the clip bites, ``clipped`` says by how
much (``score - total``), so the sub-scores still add up to the unclipped total exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openscore.scoring.artefact import FeatureScore, ScorecardArtefact, Value
from openscore.scoring.reasons import PRINCIPAL_REASONS, Reason, reason_codes

#: The five dimensions in display order (city models); tabular models have one, "tabular".
DIMENSIONS = ("credit_history", "behaviour", "ability_to_pay", "identity_stability", "connections")

#: The 0–100 scale of a dimension whose points cannot vary (no feature in it): the middle.
NEUTRAL_SCALE = 50.0


@dataclass(frozen=True, slots=True)
class SubScore:
    """One dimension's points and the same on a 0–100 scale over its attainable range."""

    points: int
    scale: float
    min_points: int
    max_points: int

    def as_dict(self) -> dict[str, Any]:
        return {"points": self.points, "scale": self.scale}


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A member's score with everything that explains it."""

    score: int
    band: str
    total: int
    intercept_points: int
    points: dict[str, int]
    subscores: dict[str, SubScore]
    reasons: list[Reason] = field(default_factory=list)

    @property
    def clipped(self) -> int:
        """How far clipping to the score range moved the total (0 almost always)."""
        return self.score - self.total

    def subscores_dict(self) -> dict[str, dict[str, Any]]:
        """Sub-scores in the score record's shape: dimension -> {points, scale}."""
        return {name: sub.as_dict() for name, sub in self.subscores.items()}

    def reasons_list(self) -> list[dict[str, Any]]:
        """Reasons in the score record's shape."""
        return [reason.as_dict() for reason in self.reasons]


def dimensions_of(artefact: ScorecardArtefact) -> list[str]:
    """The dimensions a model's sub-scores are reported for."""
    if artefact.kind == "city":
        return list(DIMENSIONS)
    return sorted({f.dimension for f in artefact.features})


def _value(features: Mapping[str, Value], feature: FeatureScore) -> Value:
    value = features.get(feature.name)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def feature_points(artefact: ScorecardArtefact, features: Mapping[str, Value]) -> dict[str, int]:
    """Each feature's integer points (a feature absent from ``features`` counts as missing)."""
    return {f.name: f.points_for(_value(features, f)) for f in artefact.features}


def subscores(artefact: ScorecardArtefact, points: Mapping[str, int]) -> dict[str, SubScore]:
    """Each dimension's points and 0–100 scale between its worst and best attainable points."""
    result: dict[str, SubScore] = {}
    for dimension in dimensions_of(artefact):
        members = [f for f in artefact.features if f.dimension == dimension]
        got = sum(points[f.name] for f in members)
        low = sum(f.worst_points for f in members)
        high = sum(f.best_points for f in members)
        scale = NEUTRAL_SCALE if high == low else round(100.0 * (got - low) / (high - low), 2)
        result[dimension] = SubScore(got, scale, low, high)
    return result


def score_features(
    artefact: ScorecardArtefact,
    features: Mapping[str, Value],
    *,
    reasons: int = PRINCIPAL_REASONS,
) -> ScoreResult:
    """Score one member's features: score, band, points per feature, sub-scores, reasons.

    Parameters
    ----------
    artefact
        The scorecard.
    features
        Feature values by name; None, NaN or an absent name is a missing value.
    reasons
        How many principal reasons to give at most (four, as adverse-action notices do).
    """
    points = feature_points(artefact, features)
    total = artefact.intercept_points + sum(points.values())
    score = artefact.scaling.clip(total)
    return ScoreResult(
        score=score,
        band=artefact.band_for(score),
        total=total,
        intercept_points=artefact.intercept_points,
        points=points,
        subscores=subscores(artefact, points),
        reasons=reason_codes(artefact, features, points, limit=reasons),
    )
