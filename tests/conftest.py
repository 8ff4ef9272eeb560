"""Shared fixtures: stores built from the migrations, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from openscore.db.engine import make_engine, normalise_url, upgrade

POSTGRES_URL = os.environ.get("OPENSCORE_TEST_DATABASE_URL")
STORES = ["sqlite", "postgresql"]


def _postgres_engine() -> Iterator[Engine]:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL leg skipped: set OPENSCORE_TEST_DATABASE_URL (.ci/run does)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # Each test gets its own schema, so parallel workers never see each other's rows; the
    # schema is in the URL so that subprocesses given engine.url land in it too.
    separator = "&" if "?" in POSTGRES_URL else "?"
    engine = make_engine(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=STORES)
def store_url_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine with an empty schema built by the migrations, on each store in turn."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
    else:
        for engine in _postgres_engine():
            upgrade(engine)
            yield engine


@pytest.fixture
def engine(store_url_engine: Engine) -> Engine:
    return store_url_engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()
