"""Ingestion rules on every store: idempotency, conflicts, membership, retractions, reports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from openscore.db.tables import EventRecord, Member, Source
from openscore.ledger.catalogue import MemberEnrolled, PaymentMade
from openscore.ledger.imports import RejectsFile, import_file
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.service import IngestRejected, ingest_events
from tests.ledger.factory import T0, enrolled, payment, retraction


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def count_events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(EventRecord)).scalar_one())


class TestIdempotency:
    @pytest.mark.parametrize("batch_size", [1, 3, 1000])
    def test_second_import_inserts_nothing(
        self, engine: Engine, tmp_path: Path, batch_size: int
    ) -> None:
        records = [enrolled("m1"), enrolled("m2"), payment("m1", "p1"), payment("m2", "p2")]
        path = write_jsonl(tmp_path / "events.jsonl", records)

        first = import_file(engine, path, batch_size=batch_size)
        second = import_file(engine, path, batch_size=batch_size)

        assert (first.inserted, first.duplicates, first.committed) == (4, 0, True)
        assert (second.inserted, second.duplicates) == (0, 4)
        assert second.by_type["payment_made"].duplicates == 2
        assert count_events(engine) == 4

    def test_identical_repeat_within_a_file_is_a_duplicate(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        records = [enrolled("m1"), payment("m1", "p1"), payment("m1", "p1")]
        report = import_file(engine, write_jsonl(tmp_path / "e.jsonl", records))
        assert (report.inserted, report.duplicates) == (2, 1)

    def test_partly_new_file_appends_only_the_new_events(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        import_file(
            engine, write_jsonl(tmp_path / "a.jsonl", [enrolled("m1"), payment("m1", "p1")])
        )
        report = import_file(
            engine, write_jsonl(tmp_path / "b.jsonl", [payment("m1", "p1"), payment("m1", "p2")])
        )
        assert (report.inserted, report.duplicates) == (1, 1)
        assert count_events(engine) == 3

    def test_same_event_id_from_another_source_is_another_event(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        records = [enrolled("m1"), payment("m1", "x"), payment("m1", "x", source="partner:cafe")]
        assert import_file(engine, write_jsonl(tmp_path / "e.jsonl", records)).inserted == 3


class TestConflicts:
    def test_conflict_with_stored_event_is_refused_and_stored_event_kept(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        import_file(
            engine,
            write_jsonl(tmp_path / "a.jsonl", [enrolled("m1"), payment("m1", "p1", amount=100)]),
        )

        with pytest.raises(IngestRejected) as caught:
            import_file(
                engine,
                write_jsonl(
                    tmp_path / "b.jsonl", [payment("m1", "p2"), payment("m1", "p1", amount=999)]
                ),
            )

        (error,) = caught.value.report.errors
        assert (error.line, error.field) == (2, "event_id")
        assert "already in the ledger with different content" in error.message
        with engine.connect() as connection:
            stored = connection.execute(
                select(EventRecord.fields).where(EventRecord.event_id == "p1")
            ).scalar_one()
        assert json.loads(stored)["amount"] == 100
        assert count_events(engine) == 2

    def test_conflict_is_diverted_with_skip_invalid(self, engine: Engine, tmp_path: Path) -> None:
        import_file(
            engine,
            write_jsonl(tmp_path / "a.jsonl", [enrolled("m1"), payment("m1", "p1", amount=100)]),
        )
        rejects = RejectsFile(tmp_path / "rejects.jsonl")

        report = import_file(
            engine,
            write_jsonl(
                tmp_path / "b.jsonl", [payment("m1", "p2"), payment("m1", "p1", amount=999)]
            ),
            rejects=rejects,
        )
        rejects.close(keep=True)

        assert (report.inserted, report.rejected, report.committed) == (1, 1, True)
        (line,) = (tmp_path / "rejects.jsonl").read_text().splitlines()
        rejected = json.loads(line)
        assert rejected["line"] == 2
        assert rejected["errors"][0]["field"] == "event_id"
        assert rejected["record"]["amount"] == 999


class TestMembership:
    def test_events_need_an_enrolled_member(self, engine: Engine, tmp_path: Path) -> None:
        with pytest.raises(IngestRejected) as caught:
            import_file(
                engine, write_jsonl(tmp_path / "e.jsonl", [enrolled("m1"), payment("ghost", "p1")])
            )
        (error,) = caught.value.report.errors
        assert (error.line, error.field) == (2, "member_id")
        assert "'ghost' is not enrolled" in error.message
        assert count_events(engine) == 0

    def test_enrolment_in_an_earlier_import_counts(self, engine: Engine, tmp_path: Path) -> None:
        import_file(engine, write_jsonl(tmp_path / "a.jsonl", [enrolled("m1")]))
        assert (
            import_file(engine, write_jsonl(tmp_path / "b.jsonl", [payment("m1", "p1")])).inserted
            == 1
        )

    def test_connection_peer_must_be_enrolled(self, engine: Engine, tmp_path: Path) -> None:
        connection = {
            "schema_version": 1,
            "event_id": "c1",
            "type": "connection_made",
            "member_id": "m1",
            "occurred_at": T0.isoformat(),
            "source": "platform",
            "peer_member_id": "m9",
            "relation": "friend",
        }
        with pytest.raises(IngestRejected) as caught:
            import_file(engine, write_jsonl(tmp_path / "e.jsonl", [enrolled("m1"), connection]))
        assert [e.field for e in caught.value.report.errors] == ["peer_member_id"]

    def test_projection_follows_enrolment_and_departure(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        left = {
            "schema_version": 1,
            "event_id": "bye",
            "type": "member_left",
            "member_id": "m1",
            "occurred_at": (T0 + dt.timedelta(days=9)).isoformat(),
            "source": "platform",
        }
        records = [enrolled("m1", connections_opt_in=True), enrolled("m2"), left]
        import_file(engine, write_jsonl(tmp_path / "e.jsonl", records))
        with engine.connect() as connection:
            rows = {r.member_id: r for r in connection.execute(select(Member))}
        assert (rows["m1"].status, rows["m1"].connections_opt_in) == ("left", True)
        assert rows["m1"].status_changed_at == T0 + dt.timedelta(days=9)
        assert (rows["m2"].status, rows["m2"].enrolled_at, rows["m2"].terms_version) == (
            "enrolled",
            T0,
            "1.0",
        )

    def test_sources_are_registered_with_their_kind(self, engine: Engine, tmp_path: Path) -> None:
        import_file(
            engine,
            write_jsonl(
                tmp_path / "e.jsonl", [enrolled("m1"), payment("m1", "p", source="court:north")]
            ),
        )
        with engine.connect() as connection:
            kinds = {r.source_id: r.kind for r in connection.execute(select(Source))}
        assert kinds == {"platform": "platform", "member": "member", "court:north": "court"}


class TestRetractions:
    def test_source_retracts_its_own_event(self, engine: Engine, tmp_path: Path) -> None:
        records = [enrolled("m1"), payment("m1", "p1"), retraction("m1", "r1", "p1")]
        assert import_file(engine, write_jsonl(tmp_path / "e.jsonl", records)).inserted == 3

    @pytest.mark.parametrize(
        ("record", "message"),
        [
            (
                retraction("m1", "r1", "p1", source="partner:other"),
                "no event 'p1' from partner:other",
            ),
            (retraction("m1", "r1", "nothing"), "no event 'nothing' from partner:shop"),
            (retraction("m2", "r1", "p1"), "about another member"),
        ],
        ids=["other-source", "missing-target", "other-member"],
    )
    def test_bad_retractions_are_refused(
        self, engine: Engine, tmp_path: Path, record: dict[str, Any], message: str
    ) -> None:
        import_file(
            engine,
            write_jsonl(
                tmp_path / "a.jsonl", [enrolled("m1"), enrolled("m2"), payment("m1", "p1")]
            ),
        )
        with pytest.raises(IngestRejected) as caught:
            import_file(engine, write_jsonl(tmp_path / "b.jsonl", [record]))
        (error,) = caught.value.report.errors
        assert error.field == "retracted_event_id"
        assert message in error.message


class TestDryRunAndReports:
    def test_dry_run_reports_and_writes_nothing(self, engine: Engine, tmp_path: Path) -> None:
        records = [enrolled("m1"), payment("m1", "p1"), payment("m1", "p2")]
        report = import_file(engine, write_jsonl(tmp_path / "e.jsonl", records), dry_run=True)
        assert (report.inserted, report.committed) == (3, False)
        assert count_events(engine) == 0

    def test_report_lists_every_error_by_line(self, engine: Engine, tmp_path: Path) -> None:
        records = [
            enrolled("m1"),
            payment("m1", "p1", amount=-5),
            payment("ghost", "p2"),
            {"type": "nope"},
        ]
        with pytest.raises(IngestRejected) as caught:
            import_file(engine, write_jsonl(tmp_path / "e.jsonl", records))
        found = [(e.line, e.field) for e in caught.value.report.errors]
        assert found == [(2, "amount"), (3, "member_id"), (4, "type")]
        assert caught.value.report.rejected == 3

    def test_only_the_first_hundred_errors_are_listed(self, engine: Engine, tmp_path: Path) -> None:
        records = [enrolled("m1")] + [payment("m1", f"p{i}", amount=-1) for i in range(150)]
        with pytest.raises(IngestRejected) as caught:
            import_file(engine, write_jsonl(tmp_path / "e.jsonl", records), batch_size=40)
        assert (len(caught.value.report.errors), caught.value.report.error_count) == (100, 150)


class TestLibraryIngestion:
    def test_models_are_appended_in_one_transaction(self, engine: Engine) -> None:
        events = [
            MemberEnrolled(
                schema_version=1,
                event_id="e1",
                type="member_enrolled",
                member_id="m1",
                occurred_at=T0,
                source="platform",
                terms_version="2.0",
            ),
            PaymentMade(
                schema_version=1,
                event_id="p1",
                type="payment_made",
                member_id="m1",
                occurred_at=T0,
                source="partner:shop",
                amount=10,
                currency="EUR",
                merchant_category="dining",
                channel="mobile",
            ),
        ]
        report = ingest_events(engine, events, origin="test", batch_size=1)
        assert (report.inserted, report.committed) == (2, True)
        with engine.connect() as connection:
            (row,) = LedgerRepository(connection).member_events("m1")[1:]
        assert (row.type, row.channel, row.origin, row.occurred_at) == (
            "payment_made",
            "library",
            "test",
            T0,
        )


class TestReferences:
    def test_every_event_names_a_registered_source_and_its_ingestion(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        # events carries no foreign keys (they would halve COPY throughput on PostgreSQL);
        # the ingestion service keeps the references whole, and this holds it to that.
        records = [enrolled("m1"), payment("m1", "p1", source="court:east"), payment("m1", "p2")]
        import_file(engine, write_jsonl(tmp_path / "a.jsonl", records))
        import_file(
            engine, write_jsonl(tmp_path / "b.jsonl", [payment("m1", "p3", source="member")])
        )
        orphans = text(
            "SELECT count(*) FROM events e "
            "LEFT JOIN sources s ON s.source_id = e.source "
            "LEFT JOIN ingestions i ON i.ingestion_id = e.ingestion_id "
            "WHERE s.source_id IS NULL OR i.ingestion_id IS NULL"
        )
        with engine.connect() as connection:
            assert connection.execute(orphans).scalar_one() == 0
            assert (
                connection.execute(select(func.count()).select_from(EventRecord)).scalar_one() == 4
            )
