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


def test_money_reads_as_money() -> None:
    # Balances are stored in cents; a member reads euros.
    feature = _feature("outstanding_balance", "int64", [150_000.5, 900_000.5], [12, 0, -25])
    (nearest, *_) = better_targets(feature, 400_000)
    assert nearest.value == 150_000
    assert nearest.condition() == "outstanding_balance at most €1,500.00"
    income = _feature("monthly_income_12m", "int64", [180_000.0], [-8, 9])
    (raise_it,) = better_targets(income, 120_050)
    assert raise_it.condition() == "monthly_income_12m at least €1,800.00"


def test_a_tabular_column_named_like_money_is_not_money() -> None:
    # A CSV-trained scorecard has no catalogue: its columns are shown as they are.
    entry = feature_entry("monthly_income_12m", [1800.0], [-8, 9])
    feature = FeatureScore.model_validate({**entry, "kind": "int64", "dimension": "tabular"})
    (raise_it,) = better_targets(feature, 1200)
    assert raise_it.condition() == "monthly_income_12m at least 1800"
