"""Every feature on every engine equals the plain-Python reference, member by member."""

from __future__ import annotations

from typing import Any

import pytest

from openscore.features.catalogue import FEATURES, FeatureSpec
from tests.features.cases import EXPECTED, NOT_MEMBERS, same
from tests.features.conftest import Features
from tests.features.reference import reference_features


@pytest.fixture(scope="module")
def reference(population: dict[str, Any]) -> Features:
    return reference_features(
        population["events"],
        population["as_of"],
        disputes=population["disputes"],
        scores=population["scores"],
    )


def test_the_same_members(population_features: Features, reference: Features) -> None:
    assert sorted(population_features) == sorted(reference)
    assert len(reference) > 150


@pytest.mark.parametrize("spec", FEATURES, ids=lambda spec: spec.name)
def test_feature_matches_reference(
    spec: FeatureSpec, population_features: Features, reference: Features
) -> None:
    wrong = {
        member: (values[spec.name], population_features[member][spec.name])
        for member, values in reference.items()
        if not same(spec, values[spec.name], population_features[member][spec.name])
    }
    assert wrong == {}
    # A feature nobody has is not tested: the population must exercise every one.
    assert any(values[spec.name] not in (None, 0, 0.0) for values in reference.values())


@pytest.mark.parametrize("member", sorted(EXPECTED))
def test_edge_case_values(member: str, population_features: Features, reference: Features) -> None:
    by_name = {spec.name: spec for spec in FEATURES}
    for name, expected in EXPECTED[member].items():
        assert same(by_name[name], expected, reference[member][name]), ("reference", name)
        assert same(by_name[name], expected, population_features[member][name]), name


def test_no_features_for_non_members(population_features: Features) -> None:
    assert [m for m in NOT_MEMBERS if m in population_features] == []
