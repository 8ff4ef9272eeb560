"""Attestations: valid ones verify; every kind of forgery or misuse is refused; rotation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from cryptography.fernet import Fernet
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from openscore.attest import service
from openscore.attest.repository import SigningKeysRepository, signing_keys
from openscore.attest.schemas import ATTESTATION_LIFETIME, Standing
from openscore.attest.service import KeyRing
from openscore.attest.verify import AttestationInvalid, verify_attestation

PLATFORM_KEY = Fernet.generate_key()
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with sessionmaker(engine)() as session:
        yield session


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(ring: KeyRing, session: Session, *, now: dt.datetime = NOW) -> str:
    return ring.sign(
        SigningKeysRepository(session),
        pseudonym="psn_abc",
        partner_id="acme-bank",
        purpose="lending",
        as_of=now - dt.timedelta(hours=1),
        standing=Standing(level="answer", threshold=600, meets_threshold=True),
        now=now,
    ).token


def _ring(session: Session) -> KeyRing:
    service.ensure_key(SigningKeysRepository(session), PLATFORM_KEY, NOW)
    return KeyRing(PLATFORM_KEY)


def _jwks(ring: KeyRing, session: Session, now: dt.datetime = NOW) -> dict[str, object]:
    ring.invalidate()
    return ring.jwks(SigningKeysRepository(session), now).model_dump()


class TestVerification:
    def test_a_valid_attestation_verifies_with_its_claims(self, session: Session) -> None:
        ring = _ring(session)
        token = _sign(ring, session)
        kid, claims = verify_attestation(token, _jwks(ring, session), audience="acme-bank", now=NOW)
        assert claims.sub == "psn_abc"
        assert claims.aud == "acme-bank"
        assert claims.exp - claims.iat == int(ATTESTATION_LIFETIME.total_seconds())
        assert claims.standing.meets_threshold is True
        assert kid == str(session.execute(select(signing_keys.c.kid)).scalar_one())

    def test_a_tampered_payload_is_refused(self, session: Session) -> None:
        ring = _ring(session)
        header, payload, signature = _sign(ring, session).split(".")
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["standing"]["meets_threshold"] = False
        forged = f"{header}.{_b64(orjson.dumps(claims))}.{signature}"
        with pytest.raises(AttestationInvalid, match="signature does not match"):
            verify_attestation(forged, _jwks(ring, session), audience="acme-bank", now=NOW)

    def test_a_signature_by_another_key_with_the_same_kid_is_refused(
        self, session: Session
    ) -> None:
        ring = _ring(session)
        kid = _sign(ring, session).split(".")[0]
        header = orjson.loads(base64.urlsafe_b64decode(kid + "=="))
        impostor = OKPKey.generate_key("Ed25519", parameters={"kid": header["kid"]})
        claims = {"iss": "openscore", "sub": "psn_abc", "aud": "acme-bank"}
        claims |= {"iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60}
        forged = jwt.encode(header, claims, impostor, algorithms=["Ed25519"])
        with pytest.raises(AttestationInvalid, match="signature does not match"):
            verify_attestation(forged, _jwks(ring, session), audience="acme-bank", now=NOW)

    def test_another_audience_is_refused(self, session: Session) -> None:
        ring = _ring(session)
        token = _sign(ring, session)
        with pytest.raises(AttestationInvalid, match="'aud'"):
            verify_attestation(token, _jwks(ring, session), audience="other-bank", now=NOW)

    def test_an_expired_attestation_is_refused(self, session: Session) -> None:
        ring = _ring(session)
        token = _sign(ring, session)
        later = NOW + ATTESTATION_LIFETIME + dt.timedelta(seconds=1)
        with pytest.raises(AttestationInvalid, match="expired"):
            verify_attestation(token, _jwks(ring, session), audience="acme-bank", now=later)

    def test_an_unknown_key_id_is_refused(self, session: Session) -> None:
        ring = _ring(session)
        stranger = OKPKey.generate_key("Ed25519", parameters={"kid": "not-ours"})
        claims = {"iss": "openscore", "sub": "psn_abc", "aud": "acme-bank"}
        claims |= {"iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60}
        header = {"alg": "Ed25519", "kid": "not-ours"}
        token = jwt.encode(header, claims, stranger, algorithms=["Ed25519"])
        with pytest.raises(AttestationInvalid, match="unknown key id 'not-ours'"):
            verify_attestation(token, _jwks(ring, session), audience="acme-bank", now=NOW)

    def test_alg_none_is_refused(self, session: Session) -> None:
        ring = _ring(session)
        _, payload, _ = _sign(ring, session).split(".")
        kid = _jwks(ring, session)["keys"][0]["kid"]  # type: ignore[index]
        header = _b64(orjson.dumps({"alg": "none", "kid": kid}))
        with pytest.raises(AttestationInvalid, match="algorithm 'none' is not accepted"):
            verify_attestation(f"{header}.{payload}.", _jwks(ring, session), audience=None, now=NOW)

    @pytest.mark.parametrize("secret_of", ["x", "jwk"])
    def test_hmac_keyed_with_the_public_key_is_refused(
        self, session: Session, secret_of: str
    ) -> None:
        ring = _ring(session)
        public = _jwks(ring, session)["keys"][0]  # type: ignore[index]
        secret = (
            base64.urlsafe_b64decode(public["x"] + "==")
            if secret_of == "x"
            else orjson.dumps(public)
        )
        _, payload, _ = _sign(ring, session).split(".")
        header = _b64(orjson.dumps({"alg": "HS256", "kid": public["kid"]}))
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        forged = f"{header}.{payload}.{_b64(mac)}"
        with pytest.raises(AttestationInvalid, match="algorithm 'HS256' is not accepted"):
            verify_attestation(forged, _jwks(ring, session), audience="acme-bank", now=NOW)

    def test_garbage_is_refused(self, session: Session) -> None:
        ring = _ring(session)
        with pytest.raises(AttestationInvalid, match="not a compact JWS"):
            verify_attestation("a.b.c", _jwks(ring, session), audience=None, now=NOW)


class TestKeys:
    def test_rotation_keeps_old_attestations_verifiable_until_they_expire(
        self, session: Session
    ) -> None:
        ring = _ring(session)
        before = _sign(ring, session)
        rotated_at = NOW + dt.timedelta(minutes=1)
        new_kid = service.rotate(SigningKeysRepository(session), PLATFORM_KEY, rotated_at)
        ring.invalidate()
        after = _sign(ring, session, now=rotated_at)
        keys = _jwks(ring, session, rotated_at)
        assert len(keys["keys"]) == 2  # type: ignore[arg-type]
        verify_attestation(before, keys, audience="acme-bank", now=rotated_at)
        kid, _ = verify_attestation(after, keys, audience="acme-bank", now=rotated_at)
        assert kid == new_kid
        gone = rotated_at + ATTESTATION_LIFETIME + dt.timedelta(seconds=1)
        later_keys = _jwks(ring, session, gone)
        assert [k["kid"] for k in later_keys["keys"]] == [new_kid]  # type: ignore[attr-defined]
        with pytest.raises(AttestationInvalid, match="unknown key id"):
            verify_attestation(before, later_keys, audience="acme-bank", now=NOW)

    def test_private_keys_are_stored_encrypted(self, session: Session) -> None:
        _ring(session)
        stored = session.execute(select(signing_keys.c.private_key)).scalar_one()
        assert b"PRIVATE KEY" not in stored
        assert Fernet(PLATFORM_KEY).decrypt(stored).startswith(b"-----BEGIN PRIVATE KEY-----")


def test_the_cli_verifies_offline_with_a_saved_jwks(session: Session, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from openscore.cli import app

    ring = _ring(session)
    now = dt.datetime.now(dt.UTC)
    token = _sign(ring, session, now=now)
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(orjson.dumps(_jwks(ring, session, now)))
    runner = CliRunner()
    good = runner.invoke(
        app, ["attest", "verify", token, "--jwks", str(jwks), "--audience", "acme-bank"]
    )
    assert good.exit_code == 0, good.output
    assert '"sub": "psn_abc"' in good.output
    wrong = runner.invoke(app, ["attest", "verify", token, "--jwks", str(jwks), "--audience", "x"])
    assert wrong.exit_code == 1
