"""The evidence trail: the events behind each value, never a retracted or disputed one."""

from __future__ import annotations

import pyarrow as pa

from openscore.features.explain import explain_member
from openscore.features.inputs import DISPUTES_SCHEMA
from tests.features.cases import AS_OF, edge_case_disputes, edge_case_events


def _explained(member: str) -> dict[str, tuple[object, list[str]]]:
    rows = edge_case_events()
    mine = [r for r in rows if r["member_id"] == member]
    disputes = edge_case_disputes()
    result = explain_member(
        member, mine, AS_OF, disputes=pa.Table.from_pylist(disputes, schema=DISPUTES_SCHEMA)
    )
    assert result is not None
    return {item.spec.name: (item.value, [e["event_id"] for e in item.evidence]) for item in result}


def test_disputed_records_are_not_evidence() -> None:
    explained = _explained("edge-disputed")
    assert explained["defaults_5y"] == (2, ["d-later", "d-resolved"])


def test_retracted_records_are_not_evidence() -> None:
    value, evidence = _explained("edge-retracted")["defaults_5y"]
    assert (value, evidence) == (0, [])
    value, evidence = _explained("edge-retracted")["gambling_spend_share_12m"]
    assert value == 0.0
    assert len(evidence) == 1


def test_expired_records_are_not_evidence() -> None:
    value, evidence = _explained("edge-expired")["defaults_5y"]
    assert value == 1
    assert len(evidence) == 1


def test_not_a_member_is_not_explained() -> None:
    assert explain_member("edge-after-as-of", [], AS_OF) is None
