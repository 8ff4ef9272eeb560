"""Reason codes: the features a member loses most points on, measured from the best attainable.

This is the method behind US adverse-action notices ("points below maximum"): for every
feature, the points the member's bin earns are compared with the most points any value of
that feature can earn, and the largest shortfalls are the principal reasons. Each reason
carries the feature's member-facing sentence from the catalogue. A feature that is not
actionable (a default five years ago, months of membership) can be a reason, because it is
one, but is never offered as something to change: it has no ``advice``.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from openscore.features.catalogue import PROTECTED_WORDS
from openscore.scoring.artefact import FeatureScore, ScorecardArtefact, Value
from openscore.scoring.display import reason_sentence
from openscore.scoring.targets import Target, better_targets


@dataclass(frozen=True, slots=True)
class Reason:
    """One principal reason: a feature and the points it stands below its best."""

    feature: str
    points_below_best: int
    sentence: str
    value: Value
    actionable: bool
    advice: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The score record's shape: feature, points below best, sentence, evidence."""
        return {
            "feature": self.feature,
            "points_below_best": self.points_below_best,
            "sentence": self.sentence,
            "evidence": list(self.evidence),
        }


class ProtectedReasonError(AssertionError):
    """A protected attribute reached the reasons: it should never have been a feature."""


def is_protected(name: str) -> bool:
    """Whether a feature or column name names a protected attribute."""
    words = {w for w in "".join(c if c.isalnum() else "_" for c in name.lower()).split("_") if w}
    return bool(words & PROTECTED_WORDS)


def advice_for(feature: FeatureScore, target: Target) -> str:
    """A member-facing sentence for reaching a better bin."""
    return f"{target.condition()} would earn {target.gain} more points."


#: How many principal reasons a score gives at most (four, as adverse-action notices do).
PRINCIPAL_REASONS = 4


def principal_shortfalls(
    artefact: ScorecardArtefact,
    points: Mapping[str, int],
    *,
    limit: int = PRINCIPAL_REASONS,
    among: Container[str] | None = None,
) -> list[tuple[int, FeatureScore]]:
    """``(points below best, feature)`` of up to ``limit`` features (of those ``among``, or
    all) with the most points below their best, most first (ties: catalogue order)."""
    shortfalls: list[tuple[int, int, FeatureScore]] = []
    for position, feature in enumerate(artefact.features):
        if among is not None and feature.name not in among:
            continue
        below = feature.best_points - points[feature.name]
        if below > 0:
            shortfalls.append((-below, position, feature))
    chosen = sorted(shortfalls, key=lambda item: item[:2])[:limit]
    return [(-negative_below, feature) for negative_below, _, feature in chosen]


def reason_codes(
    artefact: ScorecardArtefact,
    features: Mapping[str, Value],
    points: Mapping[str, int],
    *,
    limit: int = PRINCIPAL_REASONS,
) -> list[Reason]:
    """Up to ``limit`` features with the most points below their best (ties: catalogue order)."""
    reasons: list[Reason] = []
    for below, feature in principal_shortfalls(artefact, points, limit=limit):
        if is_protected(feature.name):
            raise ProtectedReasonError(f"{feature.name!r} is a protected attribute")
        value = features.get(feature.name)
        advice = None
        if feature.actionable:
            targets = better_targets(feature, value)
            if targets:
                best = max(targets, key=lambda t: (t.gain, -t.distance))
                advice = advice_for(feature, best)
        reasons.append(
            Reason(
                feature=feature.name,
                points_below_best=below,
                sentence=reason_sentence(feature, value),
                value=value,
                actionable=feature.actionable,
                advice=advice,
            )
        )
    return reasons
