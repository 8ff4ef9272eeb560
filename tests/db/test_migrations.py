"""The schema comes from the migrations, and the migrations match the table models."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from openscore.db.engine import alembic_config, downgrade, upgrade
from openscore.db.tables import MIGRATION_ONLY_INDEXES, Base


def _modelled(item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    return not (kind == "index" and name in MIGRATION_ONLY_INDEXES)


# SQLAlchemy says it skips SQLite's expression indexes when reflecting; that is the point.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _modelled}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_the_migration_only_indexes_exist(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        # SQLAlchemy does not reflect SQLite's expression indexes; ask SQLite itself.
        with engine.connect() as connection:
            names = set(
                connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
                ).scalars()
            )
    else:
        names = {str(index["name"]) for index in inspect(engine).get_indexes("events")}
    assert names >= MIGRATION_ONLY_INDEXES


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert {"events", "members", "sources", "export_watermarks", "scores"} <= set(
        inspect(engine).get_table_names()
    )


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert current is not None
