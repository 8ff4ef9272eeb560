"""The city goes into the ledger unchanged, by file import and by ``--into-ledger``.

Uses the ledger's file import (``openscore.ledger.imports.import_file``); skipped until the
ledger package provides it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from openscore.db.engine import make_engine, upgrade
from openscore.simulate.engine import CityRun

from .test_cli import _run

imports = pytest.importorskip("openscore.ledger.imports", reason="the ledger's file import")


def _events(run: CityRun) -> int:
    return sum(int(series.sum()) for series in run.events_by_type.values())


@pytest.mark.parametrize("fixture", ["eventful_parquet", "eventful_jsonl"])
def test_every_month_file_imports_whole(
    tmp_path: Path, fixture: str, request: pytest.FixtureRequest
) -> None:
    root, run = request.getfixturevalue(fixture)
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    inserted = 0
    for path in sorted((root / "events").rglob("part-*")):
        report = imports.import_file(engine, path)
        assert report.committed, [e.message for e in report.errors[:3]]
        assert (report.rejected, report.duplicates) == (0, 0)
        inserted += report.inserted
    assert inserted == _events(run)
    engine.dispose()


def test_into_ledger_ingests_instead_of_writing_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "data" / "openscore.db"
    monkeypatch.setenv("OPENSCORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPENSCORE_DATABASE_URL", f"sqlite:///{database}")
    out = tmp_path / "city"
    code, output = _run("--members", "200", "--months", "3", "--into-ledger", "--out", str(out))
    assert code == 0, output
    assert not (out / "events").exists()
    assert (out / "truth" / "members.parquet").is_file()
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
        enrolled = connection.execute(
            text("SELECT count(*) FROM events WHERE type = 'member_enrolled'")
        ).scalar_one()
    assert enrolled == 200
    assert f"{stored:,} events" in " ".join(output.split())
    engine.dispose()
