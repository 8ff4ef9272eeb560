"""What the accounts domain takes and answers."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from openscore.ledger.catalogue import MemberId


class Role(enum.StrEnum):
    """Who holds an API key: a partner, or platform staff in one of two roles."""

    partner = "partner"
    operator = "operator"
    auditor = "auditor"


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """The holder of a valid API key."""

    key_id: str
    role: Role
    holder: str


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: MemberId
    password: str = Field(min_length=1, max_length=1024)


class SessionIssued(BaseModel):
    """A new session: the bearer token (shown once) and when it ends."""

    member_id: str
    token: str
    token_type: str = "bearer"
    expires_at: dt.datetime


class Me(BaseModel):
    """The signed-in member as the service knows them."""

    member_id: str
    status: str
    enrolled_at: dt.datetime
    connections_opt_in: bool
