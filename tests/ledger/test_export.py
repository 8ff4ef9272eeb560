"""Exporting the ledger to the Parquet lake by sequence watermark."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.dataset as ds
from sqlalchemy import Engine

from openscore.ledger.catalogue import EVENT_TYPES
from openscore.ledger.imports import import_file
from openscore.ledger.lake import export_lake, lake_schema
from openscore.ledger.sample import sample_events
from openscore.ledger.writers import write_events
from tests.ledger.factory import T0, enrolled, payment
from tests.ledger.test_ingest import write_jsonl


def read_lake(lake: Path) -> list[dict[str, object]]:
    table = ds.dataset(lake / "events", format="parquet", partitioning="hive").to_table()
    return sorted(table.to_pylist(), key=lambda row: int(row["seq"]))  # type: ignore[arg-type]


class TestExport:
    def test_second_export_writes_nothing_new(self, engine: Engine, tmp_path: Path) -> None:
        import_file(
            engine, write_jsonl(tmp_path / "e.jsonl", [enrolled("m1"), payment("m1", "p1")])
        )
        lake = tmp_path / "lake"

        first = export_lake(engine, lake)
        second = export_lake(engine, lake)

        assert (first.exported, first.from_seq, first.to_seq) == (2, 1, 2)
        assert (second.exported, second.files) == (0, [])
        assert len(read_lake(lake)) == 2

    def test_later_events_go_to_new_files_only(self, engine: Engine, tmp_path: Path) -> None:
        lake = tmp_path / "lake"
        import_file(engine, write_jsonl(tmp_path / "a.jsonl", [enrolled("m1")]))
        export_lake(engine, lake)
        import_file(
            engine, write_jsonl(tmp_path / "b.jsonl", [payment("m1", "p1"), payment("m1", "p2")])
        )

        report = export_lake(engine, lake)

        assert report.exported == 2
        assert [row["event_id"] for row in read_lake(lake)] == ["enrol-m1", "p1", "p2"]

    def test_partitions_by_month_of_occurrence(self, engine: Engine, tmp_path: Path) -> None:
        april = T0 + dt.timedelta(days=45)
        records = [enrolled("m1"), payment("m1", "p1"), payment("m1", "p2", at=april)]
        import_file(engine, write_jsonl(tmp_path / "e.jsonl", records))

        report = export_lake(engine, tmp_path / "lake")

        assert sorted(p.parent.name for p in report.files) == ["month=2024-03", "month=2024-04"]
        months = {row["event_id"]: row["month"] for row in read_lake(tmp_path / "lake")}
        assert months == {"enrol-m1": "2024-03", "p1": "2024-03", "p2": "2024-04"}

    def test_every_type_keeps_its_values(self, engine: Engine, tmp_path: Path) -> None:
        source = tmp_path / "sample.parquet"
        write_events(sample_events(60, months=2, seed=3), source)
        import_file(engine, source)

        export_lake(engine, tmp_path / "lake")

        original = ds.dataset(source).to_table().to_pylist()
        exported = read_lake(tmp_path / "lake")
        assert len(exported) == len(original)
        by_key = {(r["source"], r["event_id"]): r for r in exported}
        for row in original:
            got = by_key[(row["source"], row["event_id"])]
            assert {k: got[k] for k in row} == row
        assert {r["type"] for r in exported} <= set(EVENT_TYPES)

    def test_leftovers_of_a_crashed_export_are_replaced(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        lake = tmp_path / "lake"
        import_file(
            engine, write_jsonl(tmp_path / "e.jsonl", [enrolled("m1"), payment("m1", "p1")])
        )
        stale = lake / "events" / "month=2024-03" / "part-000000000001-000000000099.parquet"
        stale.parent.mkdir(parents=True)
        stale.write_bytes(b"half-written by an export that died before moving the watermark")
        (stale.parent / "part-000000000001-000000000002.parquet.tmp").write_bytes(b"partial")

        export_lake(engine, lake)

        assert sorted(p.name for p in stale.parent.iterdir()) == [
            "part-000000000001-000000000002.parquet"
        ]
        assert len(read_lake(lake)) == 2

    def test_each_lake_has_its_own_watermark(self, engine: Engine, tmp_path: Path) -> None:
        import_file(engine, write_jsonl(tmp_path / "e.jsonl", [enrolled("m1")]))
        assert export_lake(engine, tmp_path / "one").exported == 1
        assert export_lake(engine, tmp_path / "two").exported == 1

    def test_lake_schema_has_ledger_columns(self) -> None:
        assert lake_schema().names[-2:] == ["seq", "received_at"]
