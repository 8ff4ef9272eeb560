"""Members' personal data (name, contact), encrypted at rest and kept apart from the ledger.

Events carry only pseudonymous ids. What identifies a person lives in its own table, as a
Fernet token (AES-128-CBC with HMAC-SHA256) under the platform's personal-data key, so a copy
of the database or of the lake alone names nobody, and erasing a member can remove it whole.
"""

from __future__ import annotations

import datetime as dt

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from openscore.ledger.repository import LedgerRepository


class PersonalData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()\-]{5,30}$")


class PersonalDataKeyError(Exception):
    """The stored personal data cannot be read with the configured key."""


def save_personal_data(
    repository: LedgerRepository, member_id: str, data: PersonalData, key: bytes
) -> None:
    """Encrypt and store a member's personal data (the member must be enrolled)."""
    token = Fernet(key).encrypt(data.model_dump_json().encode())
    repository.save_personal_data(member_id, token, dt.datetime.now(dt.UTC))


def load_personal_data(
    repository: LedgerRepository, member_id: str, key: bytes
) -> PersonalData | None:
    token = repository.personal_data(member_id)
    if token is None:
        return None
    try:
        plain = Fernet(key).decrypt(token)
    except InvalidToken:
        raise PersonalDataKeyError(
            "personal data cannot be decrypted: OPENSCORE_ENCRYPTION_KEY (or the key file in the "
            "data directory) is not the key it was written with"
        ) from None
    return PersonalData.model_validate_json(plain)
