"""Consent grants, pseudonyms and the access log: what the rights domain takes and answers."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from openscore.partners.schemas import PartnerId


class Purpose(enum.StrEnum):
    """What a partner may ask about a member's standing for."""

    lending = "lending"
    deposit_free_rental = "deposit_free_rental"
    tenancy = "tenancy"
    utility_account = "utility_account"


class Level(enum.StrEnum):
    """How much a partner learns, least first: yes/no to its threshold, the band, the number."""

    answer = "answer"
    band = "band"
    score = "score"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class GrantIn(BaseModel):
    """A new consent: to this partner, for this purpose, at this level, until then."""

    model_config = ConfigDict(extra="forbid")

    partner_id: PartnerId
    purpose: Purpose
    level: Level = Level.answer
    expires_at: AwareDatetime


class GrantChange(BaseModel):
    """Narrowing a grant: a lower level, an earlier expiry, or both (never wider)."""

    model_config = ConfigDict(extra="forbid")

    level: Level | None = None
    expires_at: AwareDatetime | None = None


class GrantOut(BaseModel):
    """A consent grant as its member sees it, with the pseudonym the partner knows them by."""

    grant_id: str
    partner_id: str
    purpose: Purpose
    level: Level
    granted_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    status: Literal["active", "expired", "revoked"]
    pseudonym: str


class AccessLogEntryOut(BaseModel):
    """One partner query of a member's standing: who, when, what was answered, under which grant."""

    entry_id: int
    partner_id: str
    grant_id: str
    purpose: Purpose
    level: Level
    answered: str
    asked_at: dt.datetime


class AuditedAccess(AccessLogEntryOut):
    """An access-log entry as an auditor sees it: with the member it was about."""

    member_id: str


class AccessLogPage(BaseModel):
    entries: list[AccessLogEntryOut]


class AuditPage(BaseModel):
    entries: list[AuditedAccess]


@dataclass(frozen=True, slots=True)
class Authorisation:
    """A partner's read of one member's standing, as an active grant allows it."""

    member_id: str
    partner_id: str
    grant_id: str
    purpose: Purpose
    level: Level
    pseudonym: str


#: The longest a member can consent for at once.
MAX_GRANT_LIFETIME = dt.timedelta(days=366)
