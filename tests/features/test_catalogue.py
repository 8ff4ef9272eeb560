"""The catalogue: five dimensions, enough features, and no protected attribute as an input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import ibis.expr.operations as ops
import pytest

from openscore.features.catalogue import (
    FEATURES,
    Dimension,
    ProtectedInputError,
    check_catalogue,
    check_inputs,
)
from openscore.features.definitions import build_plan
from openscore.features.explain import EVIDENCE
from openscore.features.inputs import EVENT_COLUMNS, EVENTS
from openscore.ledger.catalogue import ENVELOPE_FIELDS


class TestCatalogue:
    def test_at_least_thirty_features_over_all_five_dimensions(self) -> None:
        assert len(FEATURES) >= 30
        by_dimension = {d: [s for s in FEATURES if s.dimension is d] for d in Dimension}
        assert {d: len(specs) >= 5 for d, specs in by_dimension.items()} == dict.fromkeys(
            Dimension, True
        )

    def test_every_feature_has_a_sentence_ending_in_a_full_stop(self) -> None:
        assert [s.name for s in FEATURES if not s.description.endswith(".")] == []

    def test_every_feature_has_an_evidence_trail(self) -> None:
        assert sorted(EVIDENCE) == sorted(s.name for s in FEATURES)

    def test_the_plan_produces_exactly_the_catalogue_in_order(self) -> None:
        columns = build_plan().result.expr.columns
        assert columns == ("member_id", *(s.name for s in FEATURES))

    def test_definitions_read_only_declared_event_columns(self) -> None:
        valid = build_plan().stages[0].expr
        read = {
            field.name
            for field in valid.op().find(ops.Field)
            if isinstance(field.rel, ops.UnboundTable) and field.rel.name == EVENTS
        }
        declared = {item.split(".")[1].split("=")[0] for s in FEATURES for item in s.inputs}
        # Besides the envelope, only the retraction link is read, and only to drop events.
        allowed = declared | set(ENVELOPE_FIELDS) | {"retracted_event_id"}
        assert read - allowed == set()
        assert read <= set(EVENT_COLUMNS)


class TestProtectedAttributes:
    @pytest.mark.parametrize(
        "item",
        [
            "member_enrolled.sex",
            "profile_declared.gender",
            "profile_declared.ethnicity",
            "profile_declared.religion",
            "profile_declared.marital_status",
            "profile_declared.political_party",
            "employment_changed.union_member",
            "profile_declared.health_condition",
            "payment_made.merchant_category=health",
        ],
    )
    def test_a_protected_input_is_refused(self, item: str) -> None:
        with pytest.raises(ProtectedInputError, match="protected attribute"):
            check_inputs("bad_feature", [item])

    def test_a_field_with_denied_values_needs_a_named_value(self) -> None:
        with pytest.raises(ProtectedInputError, match="only be read for one named value"):
            check_inputs("bad_feature", ["payment_made.merchant_category"])

    def test_a_field_the_ledger_does_not_have_is_refused(self) -> None:
        with pytest.raises(ProtectedInputError, match="not a field of the ledger"):
            check_inputs("bad_feature", ["payment_made.shoe_size"])

    def test_the_catalogue_check_rejects_a_feature_reading_health_spending(self) -> None:
        bad = dataclasses.replace(
            FEATURES[0], name="health_spend", inputs=("payment_made.merchant_category=health",)
        )
        with pytest.raises(ProtectedInputError, match="health"):
            check_catalogue([*FEATURES, bad])

    def test_duplicate_names_are_refused(self) -> None:
        with pytest.raises(ValueError, match="defined twice"):
            check_catalogue([FEATURES[0], FEATURES[0]])

    def test_the_real_catalogue_passes(self) -> None:
        check_catalogue(FEATURES)


def test_docs_list_every_feature_with_its_dimension() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "features.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in docs.splitlines() if "| `" in line}
    missing = [s.name for s in FEATURES if s.name not in rows]
    assert missing == []
    assert [s.name for s in FEATURES if f"| {s.dimension.value} |" not in rows[s.name]] == []
