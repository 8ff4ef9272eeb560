"""What-if: the score with some feature values changed, and what a member can do to move up.

Only actionable features may be changed: asking what would happen if a default five years
ago had not happened, or if one had been a member longer, is refused with an error naming
the feature, because the answer could only mislead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openscore.scoring.artefact import ScorecardArtefact, Value
from openscore.scoring.scorer import ScoreResult, score_features
from openscore.scoring.targets import Target, better_targets


class WhatIfError(ValueError):
    """A change that cannot be asked about: an unknown or a non-actionable feature."""


@dataclass(frozen=True, slots=True)
class Change:
    """One feature's value before and after, and the points the change is worth."""

    feature: str
    before: Value
    after: Value
    points: int


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A member's score now and with the changes applied."""

    before: ScoreResult
    after: ScoreResult
    changes: list[Change]

    @property
    def delta(self) -> int:
        return self.after.score - self.before.score


def check_changes(artefact: ScorecardArtefact, changes: Mapping[str, Value]) -> None:
    """Refuse a change to a feature the model lacks or a member cannot act on."""
    for name in changes:
        feature = artefact.by_name.get(name)
        if feature is None:
            raise WhatIfError(f"{name!r} is not a feature of model {artefact.model_id}")
        if not feature.actionable:
            raise WhatIfError(
                f"{name!r} is not something a member can change (not actionable); "
                "what-if only changes actionable features"
            )


def whatif(
    artefact: ScorecardArtefact, features: Mapping[str, Value], changes: Mapping[str, Value]
) -> WhatIf:
    """The score with ``changes`` applied to the member's ``features``."""
    check_changes(artefact, changes)
    before = score_features(artefact, features)
    after = score_features(artefact, {**features, **changes})
    listed = [
        Change(name, features.get(name), value, after.points[name] - before.points[name])
        for name, value in changes.items()
    ]
    return WhatIf(before, after, listed)


@dataclass(frozen=True, slots=True)
class Plan:
    """The fewest actionable changes that reach ``band`` (None when no band is above)."""

    band: str | None
    points_needed: int
    steps: list[Target]
    reachable: bool

    @property
    def points(self) -> int:
        return sum(step.gain for step in self.steps)


def what_can_i_do(artefact: ScorecardArtefact, features: Mapping[str, Value]) -> Plan:
    """The smallest set of actionable changes that moves the member to the next band.

    Fewest features first: with ``k`` the smallest number of features whose best gains
    together reach the next band, the ``k`` features with the largest gains are taken; then,
    smallest gains first, each is moved only as far (to the nearest better bin) as still
    reaches the band. Each step names the feature, the bin boundary to cross, a value that
    crosses it and the points it is worth.
    """
    now = score_features(artefact, features, reasons=0)
    upper = artefact.next_band(now.score)
    if upper is None:
        return Plan(None, 0, [], True)
    needed = upper.lower - now.total
    options = {
        f.name: better_targets(f, features.get(f.name)) for f in artefact.features if f.actionable
    }
    best = sorted(
        ((max(t.gain for t in ts), name) for name, ts in options.items() if ts),
        key=lambda item: (-item[0], item[1]),
    )
    chosen: list[str] = []
    total = 0
    for gain, name in best:
        if total >= needed:
            break
        chosen.append(name)
        total += gain
    if total < needed:
        steps = [max(options[name], key=lambda t: t.gain) for name in chosen]
        return Plan(upper.name, needed, steps, False)
    return Plan(upper.name, needed, _nearest_sufficient(options, chosen, needed), True)


def _nearest_sufficient(
    options: dict[str, list[Target]], chosen: list[str], needed: int
) -> list[Target]:
    """Move each chosen feature only as far as the others' best gains still allow."""
    picks = {name: max(options[name], key=lambda t: t.gain) for name in chosen}
    for name in sorted(chosen, key=lambda n: picks[n].gain):
        others = sum(t.gain for other, t in picks.items() if other != name)
        enough = [t for t in options[name] if others + t.gain >= needed]
        picks[name] = min(enough, key=lambda t: (t.distance, t.gain))
    return [picks[name] for name in chosen]
