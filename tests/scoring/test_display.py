"""Feature values in members' words: money as money, missing as missing."""

from __future__ import annotations

import math

from openscore.features.catalogue import FEATURES, MONEY_FEATURES
from openscore.scoring.artefact import FeatureScore
from openscore.scoring.display import money_text, reason_sentence, shown_value
from tests.scoring.handmade import feature_entry


def test_money_features_are_integer_features_of_the_catalogue() -> None:
    kinds = {spec.name: spec.kind for spec in FEATURES}
    assert MONEY_FEATURES
    assert all(kinds.get(name) == "int64" for name in MONEY_FEATURES)


def test_minor_units_read_as_money() -> None:
    assert money_text(245_000) == "€2,450.00"
    assert money_text(5) == "€0.05"
    assert money_text(-1_234_567) == "-€12,345.67"


def test_shown_values() -> None:
    assert shown_value(None) == "nothing recorded"
    assert shown_value(math.nan, money=True) == "nothing recorded"
    assert shown_value(0.912345) == "0.9123"
    assert shown_value(245_000) == "245000"
    assert shown_value(245_000, money=True) == "€2,450.00"


def test_a_reason_shows_the_members_income_in_euros() -> None:
    entry = feature_entry("monthly_income_12m", [180_000.0], [-8, 9])
    feature = FeatureScore.model_validate(
        {**entry, "kind": "int64", "description": "Your average monthly income."}
    )
    assert reason_sentence(feature, 120_050) == "Your average monthly income. Yours: €1,200.50."
    tabular = feature.model_copy(update={"dimension": "tabular"})
    assert reason_sentence(tabular, 120_050) == "Your average monthly income. Yours: 120050."
