"""What the partners domain takes and answers."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PartnerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9\-]{0,62}$")]


class Scope(enum.StrEnum):
    """What a partner's key may do."""

    events_write = "events:write"
    standing_read = "standing:read"


@dataclass(frozen=True, slots=True)
class PartnerCaller:
    """A partner authenticated by one of its keys."""

    partner_id: str
    name: str
    scopes: frozenset[Scope]
    threshold: int
    key_id: str

    @property
    def source(self) -> str:
        """The ledger source its events are recorded under."""
        return f"partner:{self.partner_id}"


class PartnerOut(BaseModel):
    """A partner as members and staff see it (the threshold it compares scores with)."""

    partner_id: str
    name: str
    scopes: list[Scope]
    threshold: int
    created_at: dt.datetime


class EventBatch(BaseModel):
    """Events a partner reports; ``member_id`` is the pseudonym the partner knows a member by."""

    model_config = ConfigDict(extra="forbid")

    events: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)


class BatchError(BaseModel):
    """One problem with one event of a batch, by its position."""

    index: int
    field: str | None
    message: str


class RescoreOutcome(BaseModel):
    """Whether the members the new events are about were rescored."""

    rescored: int = Field(description="Members given a new score record before this answer.")
    queued: int = Field(
        default=0,
        description="Members of a large batch being rescored in the background, after the "
        "commit (their new records follow within moments).",
    )
    model_version: str | None = Field(description="The champion that scores them, if any.")
    note: str | None = None


class BatchAccepted(BaseModel):
    """The batch was valid and is in the ledger (new events inserted, repeats counted)."""

    inserted: int
    duplicates: int
    rescoring: RescoreOutcome
