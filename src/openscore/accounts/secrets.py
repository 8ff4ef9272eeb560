"""Secrets handed out once and kept only as hashes: API keys and session tokens.

An API key or a session token is 256 random bits, so a plain SHA-256 of it is as good as a
slow password hash and lets a key be found by its hash in one indexed lookup per request.
Passwords are another matter (people choose them): those get argon2id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: Key prefixes tell at a glance (and to secret scanners) what a string is.
KEY_PREFIX = "osk_"
SESSION_PREFIX = "oss_"

_hasher = PasswordHasher()


def new_secret(prefix: str) -> str:
    """A new random secret: ``prefix`` then 43 URL-safe characters (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """The hex SHA-256 a secret is stored and looked up by."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of a member's password (salted, memory-hard)."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


#: A hash of a password no one has, verified when a member has none, so that sign-in takes
#: as long for a member without a password as with one.
DUMMY_PASSWORD_HASH = _hasher.hash(secrets.token_urlsafe(16))


def sign_cookie(token: str, key: bytes) -> str:
    """``token.signature``: the session cookie's value, signed with the cookie key."""
    mac = hmac.new(key, token.encode(), hashlib.sha256).digest()
    return f"{token}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def unsign_cookie(value: str, key: bytes) -> str | None:
    """The token of a signed cookie value, or None if the signature does not match."""
    token, _, signature = value.rpartition(".")
    if not token:
        return None
    expected = sign_cookie(token, key).rpartition(".")[2]
    return token if hmac.compare_digest(expected, signature) else None


def cookie_key(personal_data_key: bytes) -> bytes:
    """The cookie-signing key, derived from the platform's key (never the key itself)."""
    return hmac.new(personal_data_key, b"openscore session cookie v1", hashlib.sha256).digest()
