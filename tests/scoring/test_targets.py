"""The changes what-if suggests, in words a member can act on."""

from __future__ import annotations

from openscore.scoring.artefact import FeatureScore
from openscore.scoring.targets import better_targets
from tests.scoring.handmade import feature_entry


def _feature(name: str, kind: str, splits: list[float], points: list[int]) -> FeatureScore:
    return FeatureScore.model_validate({**feature_entry(name, splits, points), "kind": kind})


def test_a_count_names_the_whole_number_to_reach() -> None:
    feature = _feature("verified_connections", "int64", [5.5, 20.5], [-10, 5, 15])
    (nearest, *_) = better_targets(feature, 2)
    assert nearest.value == 6
    assert nearest.condition() == "verified_connections at least 6"


def test_a_count_to_lower_names_the_whole_number_to_stay_at() -> None:
    feature = _feature("missed_installments_12m", "int64", [0.5, 2.5], [10, 0, -20])
    (nearest, *_) = better_targets(feature, 4)
    assert nearest.value == 2
    assert nearest.condition() == "missed_installments_12m at most 2"


def test_a_share_names_the_boundary() -> None:
    feature = _feature("on_time_share_12m", "float64", [0.8, 0.95], [-30, 0, 20])
    (nearest, *_) = better_targets(feature, 0.9)
    assert nearest.condition() == "on_time_share_12m at least 0.95"
