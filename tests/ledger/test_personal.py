"""Personal data is encrypted at rest and only readable with the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from openscore.config import Settings
from openscore.db.tables import MemberPersonalData
from openscore.ledger.imports import import_file
from openscore.ledger.personal import (
    PersonalData,
    PersonalDataKeyError,
    load_personal_data,
    save_personal_data,
)
from openscore.ledger.repository import LedgerRepository
from tests.ledger.factory import enrolled
from tests.ledger.test_ingest import write_jsonl

ALICE = PersonalData(name="Alice Example", email="alice@example.org", phone="+44 20 7946 0000")


def test_round_trip_and_ciphertext_hides_the_person(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, write_jsonl(tmp_path / "e.jsonl", [enrolled("m1")]))
    key = Fernet.generate_key()
    with engine.begin() as connection:
        save_personal_data(LedgerRepository(connection), "m1", ALICE, key)
    with engine.connect() as connection:
        stored = connection.execute(select(MemberPersonalData.ciphertext)).scalar_one()
        assert load_personal_data(LedgerRepository(connection), "m1", key) == ALICE
    assert b"Alice" not in stored and b"example.org" not in stored


def test_wrong_key_is_a_clear_error(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, write_jsonl(tmp_path / "e.jsonl", [enrolled("m1")]))
    with engine.begin() as connection:
        save_personal_data(LedgerRepository(connection), "m1", ALICE, Fernet.generate_key())
    with engine.connect() as connection, pytest.raises(PersonalDataKeyError, match="not the key"):
        load_personal_data(LedgerRepository(connection), "m1", Fernet.generate_key())


def test_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    key = settings.personal_data_key
    assert Settings(data_dir=tmp_path).personal_data_key == key
    assert (tmp_path / "personal-data.key").stat().st_mode & 0o777 == 0o600
    Fernet(key)  # a valid Fernet key, or this raises


def test_configured_key_wins(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    assert Settings(data_dir=tmp_path, encryption_key=key).personal_data_key == key.encode()
    assert not (tmp_path / "personal-data.key").exists()
