"""One member's score explained: features from the ledger, points, reasons and their evidence.

The member's own events come from the ledger store (``LedgerRepository.member_events``), in
the wide event schema the feature definitions read. Connections features also need the
neighbourhood's events; they are read from the lake when it exists (``neighbourhood``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine

from openscore.features.explain import explain_member
from openscore.features.inputs import to_events_arrow
from openscore.ledger.catalogue import ENVELOPE_FIELDS
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.wide import stored_to_wide
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.scorer import ScoreResult, score_features


def member_events(engine: Engine, member_id: str) -> pa.Table:
    """The member's events from the ledger store as a wide Arrow table."""
    with engine.connect() as connection:
        rows = LedgerRepository(connection).member_events(member_id)
    return to_events_arrow([stored_to_wide(row, ENVELOPE_FIELDS) for row in rows])


def network_events(lake: Path, member_id: str) -> pa.Table | None:
    """The neighbourhood's network events from the lake, or None without a lake."""
    if not (lake / "events").is_dir():
        return None
    from openscore.features.neighbourhood import member_inputs

    _, network = member_inputs(lake, member_id)
    return network


@dataclass(frozen=True)
class MemberScore:
    """A member's features, score and reasons with the evidence behind each reason."""

    features: dict[str, Any]
    result: ScoreResult


def explain_score(
    artefact: ScorecardArtefact,
    member_id: str,
    events: pa.Table,
    as_of: dt.datetime,
    *,
    network: pa.Table | None = None,
) -> MemberScore | None:
    """Score the member as of ``as_of`` and attach each reason's evidence; None if no member."""
    explained = explain_member(member_id, events, as_of, network=network)
    if explained is None:
        return None
    features = {item.spec.name: item.value for item in explained}
    evidence = {item.spec.name: item.evidence for item in explained}
    result = score_features(artefact, features)
    reasons = [replace(r, evidence=_jsonable(evidence.get(r.feature, []))) for r in result.reasons]
    return MemberScore(features, replace(result, reasons=reasons))


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for k, v in row.items()}
        for row in rows
    ]
