"""The reference scorer on every member of a simulated city: reconciliation, reasons, what-if."""

from __future__ import annotations

import math
from typing import Any

import pytest

from openscore.features.catalogue import FEATURES
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.estimator import Scorecard
from openscore.scoring.reasons import ProtectedReasonError, is_protected
from openscore.scoring.scorer import DIMENSIONS, score_features
from openscore.scoring.training import TrainingSet
from openscore.scoring.whatif import WhatIfError, what_can_i_do, whatif


def _members(city_set: TrainingSet) -> list[dict[str, Any]]:
    rows = city_set.frame.to_dict(orient="records")
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in rows
    ]


def test_the_city_model_uses_catalogue_metadata(city_artefact: ScorecardArtefact) -> None:
    catalogue = {spec.name: spec for spec in FEATURES}
    for feature in city_artefact.features:
        spec = catalogue[feature.name]
        assert (feature.dimension, feature.actionable) == (spec.dimension.value, spec.actionable)
        assert feature.description == spec.description
        assert not is_protected(feature.name)


def test_subscores_and_intercept_reconcile_for_every_member(
    city_artefact: ScorecardArtefact, city_set: TrainingSet
) -> None:
    model = Scorecard.from_artefact(city_artefact)
    totals = model.total_points(city_set.frame)
    for member, total in zip(_members(city_set), totals, strict=True):
        result = score_features(city_artefact, member)
        assert list(result.subscores) == list(DIMENSIONS)
        parts = sum(sub.points for sub in result.subscores.values())
        assert result.intercept_points + parts == result.total == total
        assert result.score == min(max(result.total, 350), 950)
        assert result.clipped == result.score - result.total
        assert result.band == city_artefact.band_for(result.score)
        for sub in result.subscores.values():
            assert sub.min_points <= sub.points <= sub.max_points
            assert 0.0 <= sub.scale <= 100.0


def test_reasons_are_the_largest_shortfalls_for_every_member(
    city_artefact: ScorecardArtefact, city_set: TrainingSet
) -> None:
    for member in _members(city_set):
        result = score_features(city_artefact, member)
        shortfalls = sorted(
            (f.best_points - result.points[f.name] for f in city_artefact.features), reverse=True
        )
        expected = [s for s in shortfalls if s > 0][:4]
        assert [r.points_below_best for r in result.reasons] == expected
        for reason in result.reasons:
            feature = city_artefact.by_name[reason.feature]
            assert reason.sentence.startswith(feature.description)
            assert reason.actionable == feature.actionable
            if not feature.actionable:
                assert reason.advice is None
            assert set(reason.as_dict()) == {"feature", "points_below_best", "sentence", "evidence"}


def test_a_protected_feature_in_the_reasons_is_refused(city_artefact: ScorecardArtefact) -> None:
    worst = city_artefact.features[0]
    renamed = worst.model_copy(update={"name": "marital_status"})
    artefact = city_artefact.model_copy(update={"features": [renamed]})
    with pytest.raises(ProtectedReasonError, match="marital_status"):
        score_features(artefact, {"marital_status": _worst_value(renamed)})


def _worst_value(feature: Any) -> float:
    index = feature.points.index(min(feature.points))
    return feature.splits[index - 1] if index else feature.splits[0] - 1


def test_clipping_is_shown_not_hidden(city_artefact: ScorecardArtefact) -> None:
    low = city_artefact.model_copy(update={"intercept_points": -2000})
    result = score_features(low, {})
    assert result.score == 350
    assert result.clipped == 350 - result.total > 0


def test_whatif_refuses_what_a_member_cannot_change(city_artefact: ScorecardArtefact) -> None:
    fixed = next(f.name for f in city_artefact.features if not f.actionable)
    with pytest.raises(WhatIfError, match=f"'{fixed}' is not something a member can change"):
        whatif(city_artefact, {}, {fixed: 0})
    with pytest.raises(WhatIfError, match="'shoe_size' is not a feature"):
        whatif(city_artefact, {}, {"shoe_size": 42})


def test_whatif_adds_exactly_the_points_of_the_changes(
    city_artefact: ScorecardArtefact, city_set: TrainingSet
) -> None:
    member = _members(city_set)[0]
    actionable = [f.name for f in city_artefact.features if f.actionable]
    assert "on_time_share_12m" in actionable
    answer = whatif(city_artefact, member, {"on_time_share_12m": 1.0, actionable[-1]: 0})
    assert answer.after.total - answer.before.total == sum(c.points for c in answer.changes)
    assert answer.after.points["on_time_share_12m"] == city_artefact.by_name[
        "on_time_share_12m"
    ].points_for(1.0)


def test_what_can_i_do_reaches_the_next_band_with_actionable_changes_only(
    city_artefact: ScorecardArtefact, city_set: TrainingSet
) -> None:
    checked = 0
    for member in _members(city_set)[:300]:
        plan = what_can_i_do(city_artefact, member)
        now = score_features(city_artefact, member)
        if plan.band is None:
            assert city_artefact.next_band(now.score) is None
            continue
        assert all(city_artefact.by_name[s.feature].actionable for s in plan.steps)
        after = whatif(city_artefact, member, {s.feature: s.value for s in plan.steps})
        assert after.after.total - now.total == plan.points
        if plan.reachable:
            checked += 1
            assert after.after.score >= next(
                b.lower for b in city_artefact.bands if b.name == plan.band
            )
            # fewest changes: no single step could be dropped and still reach the band
            for step in plan.steps:
                assert plan.points - step.gain < plan.points_needed
    assert checked > 50
