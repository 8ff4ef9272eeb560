"""Attestation claims and what the attestation endpoints take and answer."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The JWS algorithm: EdDSA over Ed25519, by its fully-specified name (RFC 9864).
ALGORITHM = "Ed25519"
ISSUER = "openscore"
#: How long an attestation is valid; retired keys stay published this long after rotation.
ATTESTATION_LIFETIME = dt.timedelta(minutes=15)


class Standing(BaseModel):
    """What was attested, at the level the member's grant allows."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["answer", "band", "score"]
    threshold: int | None = Field(
        default=None, description="answer: the partner's own threshold the score was held to."
    )
    meets_threshold: bool | None = Field(default=None, description="answer: score >= threshold.")
    band: str | None = None
    score: int | None = None


class AttestationClaims(BaseModel):
    """The claims of an attestation (a compact JWS), as verified."""

    iss: str
    sub: str = Field(description="The member's pseudonym for the audience partner.")
    aud: str = Field(description="The partner the attestation was issued to.")
    iat: int
    exp: int
    jti: str
    purpose: str
    as_of: str = Field(description="The instant of the score record the answer comes from.")
    standing: Standing


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=8192)
    audience: str | None = Field(
        default=None, description="Reject unless the attestation was issued to this partner."
    )


class Verification(BaseModel):
    """The outcome of a verification: valid with claims, or not with the reason."""

    valid: bool
    kid: str | None = None
    reason: str | None = None
    claims: AttestationClaims | None = None


class JsonWebKeySet(BaseModel):
    """The public keys attestations are signed with (RFC 7517)."""

    keys: list[dict[str, Any]]
