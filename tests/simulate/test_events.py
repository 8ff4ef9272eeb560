"""Every generated event is a valid catalogue event, in an order the ledger accepts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import TypeAdapter

from openscore.ledger.catalogue import ENVELOPE_FIELDS, EVENT_TYPES, Event
from openscore.ledger.wide import wide_schema
from openscore.simulate.engine import CityRun
from openscore.simulate.graph import RELATIONS
from openscore.simulate.mistakes import REASONS
from openscore.simulate.onboarding import LEAVE_REASONS, VERIFICATION_METHODS
from openscore.simulate.traits import OCCUPATIONS

from .rules import check_ingestion_order

EVENTS = TypeAdapter(Event)


def _month_files(root: Path, suffix: str) -> list[Path]:
    return sorted((root / "events").glob(f"month=*/part-00000.{suffix}"))


class TestJsonLines:
    def test_every_line_validates_and_is_what_the_catalogue_would_write(
        self, eventful_jsonl: tuple[Path, CityRun]
    ) -> None:
        root, _ = eventful_jsonl
        types: set[str] = set()
        count = 0
        for path in _month_files(root, "jsonl"):
            for line in path.read_text().splitlines():
                event = EVENTS.validate_json(line)
                assert event.model_dump_json(exclude_none=True) == line
                types.add(event.type)
                count += 1
        assert count > 50_000
        assert types == set(EVENT_TYPES)

    def test_files_follow_the_ledgers_ingestion_rules(
        self, eventful_jsonl: tuple[Path, CityRun]
    ) -> None:
        root, _ = eventful_jsonl
        files = []
        for path in _month_files(root, "jsonl"):
            rows = [json.loads(line) for line in path.read_text().splitlines()]
            for row in rows:
                row["occurred_at"] = dt.datetime.fromisoformat(row["occurred_at"])
                assert row["occurred_at"].strftime("%Y-%m") == path.parent.name[6:]
            files.append((str(path), rows))
        assert check_ingestion_order(files) == []


class TestParquet:
    def test_files_have_exactly_the_wide_schema(
        self, eventful_parquet: tuple[Path, CityRun]
    ) -> None:
        root, _ = eventful_parquet
        paths = _month_files(root, "parquet")
        assert len(paths) == 14
        for path in paths:
            assert pq.read_schema(path).remove_metadata() == wide_schema()

    def test_every_row_validates(self, eventful_parquet: tuple[Path, CityRun]) -> None:
        root, _ = eventful_parquet
        types: set[str] = set()
        files = []
        for path in _month_files(root, "parquet"):
            rows = pq.read_table(path).to_pylist()
            for row in rows:
                own = {key: value for key, value in row.items() if value is not None}
                event = EVENTS.validate_python(own, strict=False)
                types.add(event.type)
                assert set(own) == set(ENVELOPE_FIELDS) | set(event.model_dump(exclude_none=True))
            files.append((str(path), rows))
        assert types == set(EVENT_TYPES)
        assert check_ingestion_order(files) == []

    def test_parquet_and_jsonl_hold_the_same_events(
        self, eventful_parquet: tuple[Path, CityRun], eventful_jsonl: tuple[Path, CityRun]
    ) -> None:
        for parquet, jsonl in zip(
            _month_files(eventful_parquet[0], "parquet"),
            _month_files(eventful_jsonl[0], "jsonl"),
            strict=True,
        ):
            rows = pq.read_table(parquet).to_pylist()
            lines = jsonl.read_text().splitlines()
            assert len(rows) == len(lines)
            for row, line in zip(rows[::97], lines[::97], strict=True):
                own = {key: value for key, value in row.items() if value is not None}
                assert EVENTS.validate_python(own).model_dump_json(exclude_none=True) == line


class TestGroundTruthStaysOut:
    def test_events_carry_no_trait_or_protected_attribute(
        self, eventful_parquet: tuple[Path, CityRun]
    ) -> None:
        root, run = eventful_parquet
        names = set(wide_schema().names)
        assert not names & {"protected_group", "creditworthiness", "conscientiousness", "pd_12m"}
        truth = pq.read_table(root / "truth" / "members.parquet")
        assert truth.num_rows == run.city.size
        assert set(truth.column("protected_group").to_pylist()) == {"A", "B"}


@pytest.mark.parametrize(
    "words",
    [OCCUPATIONS, RELATIONS, LEAVE_REASONS, VERIFICATION_METHODS, tuple(REASONS.values())],
)
def test_vocabularies_need_no_json_escaping(words: tuple[str, ...]) -> None:
    # The JSON writer quotes values without escaping them; this keeps that safe.
    for word in words:
        assert json.dumps(word) == f'"{word}"'
        assert 0 < len(word) <= 100
