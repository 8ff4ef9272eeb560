"""Properties of the event catalogue over generated events of every type.

Valid events survive every file form unchanged, whichever validation path reads them (the
vectorised checks or pydantic); an event with one thing made wrong, among valid ones, is
refused alone with exactly that field named.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.ledger.canonical import Prepared, prepare_event
from openscore.ledger.catalogue import (
    EVENT_MODELS,
    EventBase,
)
from openscore.ledger.files import read_events
from openscore.ledger.validation import EVENT_ADAPTER, Parsed, parse_json, validation_context
from openscore.ledger.wide import event_to_wide, format_csv_value, wide_columns, wide_schema
from openscore.ledger.writers import write_events
from tests.ledger.factory import enrolled
from tests.ledger.strategies import (
    NOW,
    Form,
    event_lists,
    events,
    events_of,
    mutations,
    plain_record,
)

PROPERTY = settings(max_examples=60, deadline=None)
FORMS: list[Form] = ["jsonl", "csv", "parquet"]
CONTEXT = validation_context(NOW)
#: The wide schema with every column nullable, so that a required envelope field can be left out.
LOOSE_SCHEMA = pa.schema([f.with_nullable(True) for f in wide_schema()])
BILL_PAID: dict[str, Any] = {
    **enrolled("m1", event_id="b1"),
    "type": "bill_paid",
    "terms_version": None,
    "bill_id": "B-7",
    "bill_kind": "phone",
    "amount": 3000,
    "currency": "EUR",
    "due_date": "2024-02-28",
    "paid_date": "2024-03-01",
}
CONNECTION: dict[str, Any] = {
    **enrolled("m1", event_id="c1"),
    "type": "connection_made",
    "terms_version": None,
    "peer_member_id": "m2",
    "relation": "friend",
}


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A path in a fresh directory (Hypothesis examples cannot share pytest's ``tmp_path``)."""
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory) / name


def read_back(path: Path, batch_size: int = 10_000) -> tuple[list[Prepared], list[Parsed]]:
    """Everything the ledger's reader makes of a file: accepted events, refused records."""
    accepted: list[Prepared] = []
    refused: list[Parsed] = []
    for chunk in read_events(path, now=NOW, batch_size=batch_size):
        accepted += chunk.events
        refused += chunk.rejected
    return accepted, refused


def as_model(prepared: Prepared) -> EventBase:
    """The catalogue model an accepted record stands for."""
    return EVENT_ADAPTER.validate_json(orjson.dumps(prepared.as_record()), context=CONTEXT)


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else format_csv_value(value)


def write_records(records: list[dict[str, Any]], form: Form, path: Path) -> list[range]:
    """Write records (Python values, possibly invalid) as a ``form`` file, bypassing the
    project's writer; returns the lines each record occupies."""
    if form == "jsonl":
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        return [range(n, n + 1) for n in range(1, len(records) + 1)]
    if form == "parquet":
        rows = [dict.fromkeys(wide_columns()) | r for r in records]
        pq.write_table(pa.Table.from_pylist(rows, schema=LOOSE_SCHEMA), path)
        return [range(n, n + 1) for n in range(1, len(records) + 1)]
    extra = sorted({name for r in records for name in r} - set(wide_columns()))
    columns = [*wide_columns(), *extra]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    spans = []
    line = 2
    for record in records:
        start = text.tell()
        writer.writerow([_cell(record.get(name)) for name in columns])
        height = text.getvalue()[start:].count("\n")
        spans.append(range(line, line + height))
        line += height
    path.write_text(text.getvalue(), encoding="utf-8")
    return spans


class TestValidEvents:
    @pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
    @settings(max_examples=10, deadline=None)
    @given(data=st.data())
    def test_every_type_is_generated_valid(
        self, model: type[EventBase], data: st.DataObject
    ) -> None:
        event = data.draw(events_of(model))

        assert type(event) is model
        assert EVENT_ADAPTER.validate_json(event.model_dump_json(), context=CONTEXT) == event

    @pytest.mark.parametrize("form", FORMS)
    @PROPERTY
    @given(events=event_lists(), batch_size=st.integers(min_value=1, max_value=5))
    def test_round_trip_through_files(
        self, form: Form, events: list[EventBase], batch_size: int
    ) -> None:
        with scratch(f"events.{form}") as path:
            assert write_events((event_to_wide(e) for e in events), path) == len(events)
            accepted, refused = read_back(path, batch_size)

        assert [(p.line, p.errors) for p in refused] == []
        assert [as_model(p) for p in accepted] == events
        # Whichever path validated a record, it is stored in one canonical form.
        assert [p._replace(line=None) for p in accepted] == [prepare_event(e) for e in events]
        lines = [p.line or 0 for p in accepted]
        assert lines == sorted(set(lines))
        if form != "csv":  # a CSV record spans several lines when its text holds newlines
            assert lines == list(range(1, len(events) + 1))


class TestMutatedEvents:
    @pytest.mark.parametrize("form", FORMS)
    @PROPERTY
    @given(data=st.data(), batch_size=st.integers(min_value=1, max_value=4))
    def test_refused_alone_with_the_field_named(
        self, form: Form, data: st.DataObject, batch_size: int
    ) -> None:
        mutation = data.draw(mutations(form), label="mutation")
        neighbours = data.draw(st.lists(events(), max_size=3), label="neighbours")
        position = data.draw(st.integers(min_value=0, max_value=len(neighbours)))
        records = [plain_record(e) for e in neighbours]
        records.insert(position, mutation.record)

        with scratch(f"events.{form}") as path:
            spans = write_records(records, form, path)
            accepted, refused = read_back(path, batch_size)

        if mutation.in_header:
            assert [(p.line, [f for f, _ in p.errors]) for p in refused] == [(1, [mutation.field])]
            assert accepted == []
            return
        (bad,) = refused
        assert bad.line in spans[position], (bad.line, spans[position])
        assert [name for name, _ in bad.errors] == [mutation.field], mutation.kind
        assert re.search(mutation.message, bad.errors[0][1]), (mutation.kind, bad.errors)
        assert [as_model(p) for p in accepted] == neighbours


class TestEdgesOnceMissed:
    """What the first version of the catalogue and readers got wrong, pinned."""

    @pytest.mark.parametrize(
        ("record", "field"),
        [
            (BILL_PAID | {"paid_date": "2024-03-02"}, "paid_date"),
            (
                BILL_PAID
                | {"type": "installment_paid", "loan_id": "L1", "installment_no": 1}
                | {"paid_date": "2024-03-02", "bill_id": None, "bill_kind": None},
                "paid_date",
            ),
            (CONNECTION | {"peer_member_id": "m1"}, "peer_member_id"),
        ],
        ids=["bill_paid", "installment_paid", "connection_made"],
    )
    def test_a_cross_field_rule_names_its_field(self, record: dict[str, Any], field: str) -> None:
        present = {k: v for k, v in record.items() if v is not None}

        refused = parse_json(orjson.dumps(present), CONTEXT)

        assert isinstance(refused, Parsed)
        assert [name for name, _ in refused.errors] == [field]

    def test_amount_beyond_int64_is_refused(self) -> None:
        record = {
            "schema_version": 1,
            "event_id": "p1",
            "type": "payment_made",
            "member_id": "m1",
            "occurred_at": "2024-03-01T09:00:00Z",
            "source": "partner:shop",
            "amount": 2**63,
            "currency": "EUR",
            "merchant_category": "groceries",
            "channel": "card",
        }

        refused = parse_json(orjson.dumps(record), CONTEXT)

        assert isinstance(refused, Parsed)
        assert [name for name, _ in refused.errors] == ["amount"]

    @pytest.mark.parametrize(
        "instant", ["0001-01-01T00:00:00+05:30", "9999-12-31T23:59:59-05:00"], ids=["min", "max"]
    )
    def test_occurred_at_outside_the_calendar_is_an_error(self, instant: str) -> None:
        record = {**enrolled("m1"), "occurred_at": instant}

        refused = parse_json(orjson.dumps(record), CONTEXT)

        assert isinstance(refused, Parsed)
        assert [name for name, _ in refused.errors] == ["occurred_at"]

    @pytest.mark.parametrize(
        "record",
        [
            {**enrolled("m1"), "connections_opt_in": None},
            {**enrolled("m1", event_id="bye"), "type": "member_left", "leave_reason": None},
        ],
        ids=["connections_opt_in", "leave_reason"],
    )
    def test_a_line_gets_one_verdict_whatever_its_neighbours(self, record: dict[str, Any]) -> None:
        """An explicit null for a defaulted field is the default, in Arrow's path and pydantic's."""
        record.pop("terms_version") if record["type"] == "member_left" else None
        unreadable_by_arrow = {**enrolled("m2"), "colour": "red"}

        with scratch("alone.jsonl") as alone:
            write_records([record], "jsonl", alone)
            verdict_alone = [[f for f, _ in p.errors] for p in read_back(alone)[1]]
        with scratch("beside.jsonl") as beside:
            write_records([record, unreadable_by_arrow], "jsonl", beside)
            verdict_beside = [[f for f, _ in p.errors] for p in read_back(beside)[1] if p.line == 1]

        assert verdict_alone == verdict_beside == []
