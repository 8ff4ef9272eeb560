"""What members and partners read about a member's standing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from openscore.attest.schemas import Standing
from openscore.partners.schemas import PartnerCaller
from openscore.rights.schemas import Level, Purpose
from openscore.scoring.records import Reason, SubScore


class ScoreOut(BaseModel):
    """A member's score record as the member sees it: every point explained."""

    score: int
    band: str
    as_of: dt.datetime
    model_version: str
    subscores: dict[str, SubScore]
    reasons: list[Reason]
    cause: str
    computed_at: dt.datetime


class ScoreHistory(BaseModel):
    records: list[ScoreOut]


class WhatIfIn(BaseModel):
    """Feature values to try instead of the member's own (actionable features only)."""

    model_config = ConfigDict(extra="forbid")

    changes: dict[str, float | None] = Field(min_length=1, max_length=20)


class FeatureChange(BaseModel):
    feature: str
    before: float | None
    after: float | None
    points: int


class WhatIfOut(BaseModel):
    """The score now (from the member's features now) and with the changes."""

    model_version: str
    score_now: int
    band_now: str
    score_after: int
    band_after: str
    changes: list[FeatureChange]


@dataclass(frozen=True, slots=True)
class StandingQuery:
    """One partner's question about one member's standing, as the endpoint received it."""

    partner: PartnerCaller
    pseudonym: str
    purpose: Purpose


class StandingOut(BaseModel):
    """A partner's answer: what the grant allows, and a signed attestation of it."""

    pseudonym: str
    purpose: Purpose
    level: Level
    standing: Standing | None = Field(
        description="None when the member has no score yet (the query is still logged)."
    )
    as_of: dt.datetime | None = None
    attestation: str | None = Field(default=None, description="Compact JWS (Ed25519).")
    attestation_expires_at: dt.datetime | None = None


def score_out(record: Any) -> ScoreOut:
    return ScoreOut(
        score=record.score,
        band=record.band,
        as_of=record.as_of,
        model_version=record.model_version,
        subscores=record.subscores,
        reasons=record.reasons,
        cause=record.cause,
        computed_at=record.computed_at,
    )
