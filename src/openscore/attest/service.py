"""Signing keys and attestations: sign with the active key, publish every key still needed.

Private keys are stored only as Fernet tokens under the platform's key. Rotation retires the
active key and makes a new one; a retired key stays published (and accepted) for one
attestation lifetime after it retired, so whatever it signed verifies until it expires.
A running service re-reads the keys every few seconds, so a rotation by the CLI in another
process takes effect without a restart.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from dataclasses import dataclass

import orjson
from cryptography.fernet import Fernet
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey
from joserfc.jws import JWSRegistry

from openscore.attest.repository import SigningKeysRepository
from openscore.attest.schemas import (
    ALGORITHM,
    ATTESTATION_LIFETIME,
    ISSUER,
    JsonWebKeySet,
    Standing,
)

#: The JWS registry every attestation is signed through (Ed25519 only).
_SIGNING = JWSRegistry(algorithms=[ALGORITHM])

#: How often a running service re-reads the keys (a rotation elsewhere shows within this).
RELOAD_SECONDS = 5.0


@dataclass(frozen=True)
class Attestation:
    token: str
    kid: str
    jti: str
    expires_at: dt.datetime


def new_key(repository: SigningKeysRepository, platform_key: bytes, now: dt.datetime) -> str:
    """Make and store a new Ed25519 signing key; returns its key id."""
    kid = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    key = OKPKey.generate_key("Ed25519", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"})
    public = orjson.dumps(key.as_dict(private=False)).decode()
    private = Fernet(platform_key).encrypt(key.as_pem(private=True))
    repository.add(kid, public, private, now)
    return kid


def rotate(repository: SigningKeysRepository, platform_key: bytes, now: dt.datetime) -> str:
    """Retire the active key and make a new one; returns the new key id."""
    repository.retire_all_active(now)
    return new_key(repository, platform_key, now)


def ensure_key(repository: SigningKeysRepository, platform_key: bytes, now: dt.datetime) -> str:
    """The active key's id, making the first key if there is none."""
    row = repository.active()
    return str(row.kid) if row is not None else new_key(repository, platform_key, now)


class KeyRing:
    """The active signing key and the published keys, cached and re-read every few seconds."""

    def __init__(self, platform_key: bytes) -> None:
        self._fernet = Fernet(platform_key)
        self._lock = threading.Lock()
        self._loaded = -1e18
        self._signing: OKPKey | None = None
        self._published: list[dict[str, object]] = []

    def _load(self, repository: SigningKeysRepository, now: dt.datetime) -> None:
        if time.monotonic() - self._loaded < RELOAD_SECONDS:
            return
        with self._lock:
            active = repository.active()
            rows = repository.verifiable(now - ATTESTATION_LIFETIME)
            signing = None
            if active is not None:
                pem = self._fernet.decrypt(active.private_key)
                signing = OKPKey.import_key(pem, parameters={"kid": active.kid})
            self._signing = signing
            self._published = [orjson.loads(row.public_jwk) for row in rows]
            self._loaded = time.monotonic()

    def invalidate(self) -> None:
        self._loaded = -1e18

    def jwks(self, repository: SigningKeysRepository, now: dt.datetime) -> JsonWebKeySet:
        self._load(repository, now)
        return JsonWebKeySet(keys=list(self._published))

    def key_set(self, repository: SigningKeysRepository, now: dt.datetime) -> KeySet:
        return KeySet.import_key_set(self.jwks(repository, now).model_dump())  # type: ignore[arg-type]

    def sign(
        self,
        repository: SigningKeysRepository,
        *,
        pseudonym: str,
        partner_id: str,
        purpose: str,
        as_of: dt.datetime,
        standing: Standing,
        now: dt.datetime,
    ) -> Attestation:
        """A compact JWS of a standing, for one partner, valid for ``ATTESTATION_LIFETIME``."""
        self._load(repository, now)
        key = self._signing
        if key is None:
            raise RuntimeError("no signing key: run `openscore keys rotate` to make one")
        kid = str(key.kid)
        issued = int(now.timestamp())
        expires = issued + int(ATTESTATION_LIFETIME.total_seconds())
        jti = secrets.token_urlsafe(12)
        claims = {
            "iss": ISSUER,
            "sub": pseudonym,
            "aud": partner_id,
            "iat": issued,
            "exp": expires,
            "jti": jti,
            "purpose": purpose,
            "as_of": as_of.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "standing": standing.model_dump(exclude_none=True),
        }
        header = {"alg": ALGORITHM, "kid": kid, "typ": "JWT"}
        # A JWT's compact JWS, signed through joserfc's JWS layer with the claims as JSON
        # bytes and one registry for every call: jwt.encode builds a registry per token and
        # dumps the claims with the standard library, a third of signing's time.
        token = jws.serialize_compact(header, orjson.dumps(claims), key, registry=_SIGNING)
        return Attestation(token, kid, jti, dt.datetime.fromtimestamp(expires, dt.UTC))
