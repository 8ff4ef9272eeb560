"""Published keys, online verification, and key rotation by an operator."""

from __future__ import annotations

from fastapi import APIRouter, Request

from openscore.api.deps import CurrentOperator, DbSession, State, UnitOfWorkRoute, now
from openscore.api.problems import problem_responses
from openscore.attest import service
from openscore.attest.repository import SigningKeysRepository
from openscore.attest.schemas import JsonWebKeySet, Verification, VerifyRequest
from openscore.attest.verify import verification

router = APIRouter(tags=["attestations"], route_class=UnitOfWorkRoute)


@router.get("/.well-known/jwks.json")
def jwks(db: DbSession, state: State) -> JsonWebKeySet:
    """The public keys of every attestation that can still be valid (RFC 7517)."""
    return state.key_ring.jwks(SigningKeysRepository(db), now())


@router.post("/v1/attestations/verify", responses=problem_responses(422, 429))
def verify(body: VerifyRequest, request: Request, db: DbSession, state: State) -> Verification:
    """Check an attestation: signature, key, expiry, and audience when given."""
    state.limits.check("verify", request.client.host if request.client else "unknown")
    keys = state.key_ring.key_set(SigningKeysRepository(db), now())
    return verification(body.token, keys, audience=body.audience, now=now())


@router.post("/v1/signing-keys/rotate", responses=problem_responses(401, 403))
def rotate(operator: CurrentOperator, db: DbSession, state: State) -> JsonWebKeySet:
    """Retire the signing key and make a new one (operators); answers the published keys."""
    repository = SigningKeysRepository(db)
    service.rotate(repository, state.settings.personal_data_key, now())
    state.key_ring.invalidate()
    return state.key_ring.jwks(repository, now())
