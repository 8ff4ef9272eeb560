"""Offline verification: a partner checks an attestation with the published keys alone.

Only Ed25519 signatures by a key in the set are accepted: ``alg`` none, HMAC (including
"HS256 keyed with the public key", the classic confusion) and every other algorithm are
refused before any key is used, and a key id not in the set is refused, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from pydantic import ValidationError

from openscore.attest.schemas import ALGORITHM, ISSUER, AttestationClaims, Verification


class AttestationInvalid(Exception):
    """The attestation must not be trusted; the message says why."""


def _header(token: str) -> dict[str, Any]:
    try:
        return dict(extract_compact(token.encode()).headers())
    except (JoseError, ValueError, TypeError) as error:
        raise AttestationInvalid(f"not a compact JWS: {error}") from None


def verify_attestation(
    token: str,
    jwks: Mapping[str, Any] | KeySet,
    *,
    audience: str | None,
    now: dt.datetime | None = None,
) -> tuple[str, AttestationClaims]:
    """``(kid, claims)`` of a valid attestation; raises :class:`AttestationInvalid`.

    ``jwks`` is the document at ``/.well-known/jwks.json`` (or a joserfc ``KeySet``).
    """
    header = _header(token)
    if header.get("alg") != ALGORITHM:
        raise AttestationInvalid(f"algorithm {header.get('alg')!r} is not accepted, only Ed25519")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise AttestationInvalid("no key id (kid) in the header")
    keys = jwks if isinstance(jwks, KeySet) else KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
    instant = now or dt.datetime.now(dt.UTC)
    try:
        decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
        registry = jwt.JWTClaimsRegistry(
            now=int(instant.timestamp()),
            leeway=0,
            iss={"essential": True, "value": ISSUER},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            aud={"essential": True, **({"value": audience} if audience is not None else {})},
        )
        registry.validate(decoded.claims)
    except InvalidKeyIdError:
        raise AttestationInvalid(f"unknown key id {kid!r}") from None
    except BadSignatureError:
        raise AttestationInvalid("the signature does not match the content") from None
    except ExpiredTokenError:
        raise AttestationInvalid("expired") from None
    except InvalidClaimError as error:
        raise AttestationInvalid(f"claim not accepted: {error.description}") from None
    except MissingClaimError as error:
        raise AttestationInvalid(f"claim missing: {error.description}") from None
    except (JoseError, ValueError) as error:
        raise AttestationInvalid(f"not a valid attestation: {error}") from None
    if decoded.claims["iat"] > int(instant.timestamp()) + 60:
        raise AttestationInvalid("issued in the future")
    try:
        return kid, AttestationClaims.model_validate(decoded.claims)
    except ValidationError as error:
        raise AttestationInvalid(f"claims are not an attestation's: {error}") from None


def verification(
    token: str, jwks: Mapping[str, Any] | KeySet, *, audience: str | None, now: dt.datetime
) -> Verification:
    """The same check as a :class:`Verification` (valid, or not with the reason)."""
    try:
        kid, claims = verify_attestation(token, jwks, audience=audience, now=now)
    except AttestationInvalid as problem:
        return Verification(valid=False, reason=str(problem))
    return Verification(valid=True, kid=kid, claims=claims)
