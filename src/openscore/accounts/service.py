"""The rules of credentials: keys shown once, passwords checked in constant time, sessions end."""

from __future__ import annotations

import datetime as dt
import secrets

from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import KeyHolder, Role, SessionIssued
from openscore.accounts.secrets import (
    DUMMY_PASSWORD_HASH,
    KEY_PREFIX,
    SESSION_PREFIX,
    hash_password,
    new_secret,
    password_matches,
    password_needs_rehash,
    secret_hash,
)
from openscore.db.dialect import claim_write_lock
from openscore.errors import Invalid, NotFound, NotSignedIn

#: How long a member stays signed in.
SESSION_LIFETIME = dt.timedelta(hours=12)
#: NIST SP 800-63B's floor for a memorised secret chosen by its user.
MIN_PASSWORD_LENGTH = 8


def issue_api_key(
    repository: AccountsRepository, role: Role, holder: str, now: dt.datetime
) -> tuple[str, str]:
    """A new key for ``holder`` in ``role``: ``(key_id, key)``; the key is never stored."""
    key_id = f"key_{secrets.token_hex(8)}"
    key = new_secret(KEY_PREFIX)
    repository.add_key(key_id, secret_hash(key), role.value, holder, now)
    return key_id, key


def key_holder(repository: AccountsRepository, key: str) -> KeyHolder | None:
    """Who holds a key, if it is a live key."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = repository.key_by_hash(secret_hash(key))
    if row is None:
        return None
    return KeyHolder(key_id=row.key_id, role=Role(row.role), holder=row.holder)


def set_member_password(
    repository: AccountsRepository, member_id: str, password: str, now: dt.datetime
) -> None:
    """Set (or replace) an enrolled member's password."""
    if repository.member(member_id) is None:
        raise NotFound(f"no member {member_id!r} is enrolled")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    repository.set_password_hash(member_id, hash_password(password), now)


def sign_in(
    repository: AccountsRepository, member_id: str, password: str, now: dt.datetime
) -> SessionIssued:
    """A new session for a member whose password matches; one vague error otherwise.

    Call it first in its unit of work. The password is checked before the write lock is
    claimed: argon2 takes tens of milliseconds (80 ms on the development machine), and every
    writer of the process, partners' standing answers among them, would wait behind it.
    The check's reads are then ended (they wrote nothing), because on SQLite a transaction
    that has read cannot wait for the write lock (``claim_write_lock``); under the lock the
    stored hash must still be the one checked, or the sign-in is refused.
    """
    stored = repository.password_hash(member_id)
    member = repository.member(member_id) if stored is not None else None
    # Verify against a dummy hash when there is none, so timing does not tell who exists.
    matches = password_matches(stored or DUMMY_PASSWORD_HASH, password)
    if stored is None or not matches or member is None or member.status != "enrolled":
        raise NotSignedIn("member id or password is wrong")
    repository.session.rollback()
    claim_write_lock(repository.session)
    if repository.password_hash(member_id) != stored:  # changed while it was being checked
        raise NotSignedIn("member id or password is wrong")
    if password_needs_rehash(stored):
        repository.set_password_hash(member_id, hash_password(password), now)
    token = new_secret(SESSION_PREFIX)
    expires_at = now + SESSION_LIFETIME
    repository.add_session(secret_hash(token), member_id, now, expires_at)
    return SessionIssued(member_id=member_id, token=token, expires_at=expires_at)


def session_member(repository: AccountsRepository, token: str, now: dt.datetime) -> str | None:
    """The member whose live session this token opens, if any."""
    if not token.startswith(SESSION_PREFIX):
        return None
    return repository.session_member(secret_hash(token), now)


def sign_out(repository: AccountsRepository, token: str, now: dt.datetime) -> None:
    """End the session this token opens (a write: it queues for the process's write lock
    like every other writer, rather than in SQLite's sleeping busy handler)."""
    claim_write_lock(repository.session)
    repository.end_session(secret_hash(token), now)
