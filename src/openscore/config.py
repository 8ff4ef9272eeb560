"""One settings object for the whole platform (environment prefix ``OPENSCORE_``)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_FILE_NAME = "personal-data.key"


class Settings(BaseSettings):
    """Where OpenScore keeps its data and how it reaches its store.

    Every field can be set from the environment, e.g. ``OPENSCORE_DATA_DIR=/srv/openscore``.
    """

    model_config = SettingsConfigDict(env_prefix="OPENSCORE_", extra="forbid")

    data_dir: Path = Field(
        default=Path(".openscore"),
        description="Directory for the embedded database, the Parquet lake and generated keys.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the system of record; default: a SQLite file in data_dir.",
    )
    encryption_key: str | None = Field(
        default=None,
        description="Fernet key for personal data at rest; generated into data_dir on first run.",
    )
    rate_limit_sign_in: str = Field(
        default="10/minute", description="Sign-in attempts per client and member id."
    )
    rate_limit_partner: str = Field(
        default="6000/minute", description="API requests per partner (all its keys)."
    )
    rate_limit_verify: str = Field(
        default="600/minute", description="Online attestation checks per client address."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'openscore.db').resolve()}"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @cached_property
    def personal_data_key(self) -> bytes:
        """The personal-data key: the configured one, else the one in data_dir, else a new one."""
        if self.encryption_key:
            return self.encryption_key.encode()
        path = self.data_dir / KEY_FILE_NAME
        if path.exists():
            return path.read_bytes().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        # Create with owner-only permissions from the start: the key must never be world-readable.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        return key


def get_settings() -> Settings:
    """Settings read from the environment now (no module-level singleton to patch in tests)."""
    return Settings()
