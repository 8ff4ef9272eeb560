"""Malformed input files: each kind refused with its own clear error, and nothing written.

Every case runs on every store. A file is all or nothing: a bad line among good ones writes
none of them, and an earlier import's rows stay exactly as they were. With ``--skip-invalid``
the good lines go in and each bad one goes to the rejects file, unless the file is unreadable
past some point (a broken header, an unterminated quote), which still writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, Table, select

from openscore.db.tables import EventRecord, Member
from openscore.ledger.imports import import_file, rejects_file
from openscore.ledger.service import IngestRejected
from openscore.ledger.wide import format_csv_value, wide_columns, wide_schema
from openscore.ledger.writers import write_events
from tests.ledger.factory import enrolled, payment, retraction

#: One line a chunk (good lines appended, then rolled back) and the whole file in one chunk.
BATCH_SIZES = [1, 1000]
EVENTS: Table = EventRecord.__table__  # type: ignore[assignment]
MEMBERS: Table = Member.__table__  # type: ignore[assignment]

Expected = tuple[str | None, int | None, str]
"""(field, line, a regular expression the message must match)."""


Writer = Callable[[Path], object]


@dataclass(frozen=True)
class BadFile:
    name: str
    write: Writer
    errors: list[Expected]
    before: list[dict[str, Any]] = field(default_factory=list)
    """Events imported (and committed) before the bad file."""


# --- building files --------------------------------------------------------------------------


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


def jsonl(*lines: bytes) -> Writer:
    return lambda path: path.write_bytes(b"".join(part + b"\n" for part in lines))


def raw(data: bytes) -> Writer:
    return lambda path: path.write_bytes(data)


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def csv_rows(*records: dict[str, Any]) -> list[list[str]]:
    """Records in the wide CSV form (every column, empty where absent)."""
    return [[format_csv_value(record.get(c)) for c in wide_columns()] for record in records]


def parquet(table: pa.Table) -> Writer:
    return lambda path: pq.write_table(table, path)


def wide_table(records: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    rows = []
    for record in records:
        row = dict.fromkeys(wide_columns()) | record
        row["occurred_at"] = dt.datetime.fromisoformat(str(record["occurred_at"]))
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema)


def with_amount_as_text() -> pa.Schema:
    schema = wide_schema()
    index = schema.get_field_index("amount")
    return schema.set(index, pa.field("amount", pa.string()))


WIDE = list(wide_columns())
ENROL = enrolled("m1")
PAY = payment("m1", "p1")
FUTURE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()

# --- the table -------------------------------------------------------------------------------

CASES: dict[str, BadFile] = {
    "truncated-json-line": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line(PAY)[:40], line(payment("m1", "p2"))),
        [(None, 2, r"^invalid JSON: EOF while parsing")],
    ),
    "json-line-not-an-object": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), b"[1, 2]"),
        [(None, 2, r"^Input should be an object")],
    ),
    "latin-1-bytes-in-jsonl": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line(PAY).replace(b'"card"', b'"c\xe9rd"')),
        [(None, 2, r"^not valid UTF-8: byte 0xe9 at column \d+$")],
    ),
    "latin-1-bytes-in-csv": BadFile(
        "events.csv",
        raw(
            csv_bytes(WIDE, csv_rows(ENROL))
            + ",".join(csv_rows(payment("m1", "p1", merchant_category="café"))[0]).encode("latin-1")
            + b"\n"
        ),
        [(None, 3, r"^not valid UTF-8: byte 0xe9 at column \d+$")],
    ),
    "csv-missing-required-column": BadFile(
        "events.csv",
        raw(
            csv_bytes(
                [c for c in WIDE if c != "occurred_at"],
                [
                    [v for c, v in zip(WIDE, row, strict=True) if c != "occurred_at"]
                    for row in csv_rows(ENROL)
                ],
            )
        ),
        [("occurred_at", 1, r"^required column 'occurred_at' is missing$")],
    ),
    "csv-duplicate-header": BadFile(
        "events.csv",
        raw(csv_bytes([*WIDE, "amount"], [[*row, ""] for row in csv_rows(ENROL)])),
        [("amount", 1, r"^column 'amount' appears more than once$")],
    ),
    "csv-unknown-column": BadFile(
        "events.csv",
        raw(csv_bytes([*WIDE, "colour"], [[*row, "red"] for row in csv_rows(ENROL)])),
        [("colour", 1, r"^unknown column 'colour'; see docs/events.md")],
    ),
    "csv-row-with-too-many-cells": BadFile(
        "events.csv",
        raw(csv_bytes(WIDE, [*csv_rows(ENROL), [*csv_rows(PAY)[0], "extra"]])),
        [(None, 3, rf"^row has {len(WIDE) + 1} cells; the header has {len(WIDE)}$")],
    ),
    "csv-row-with-too-few-cells": BadFile(
        "events.csv",
        raw(csv_bytes(WIDE, [*csv_rows(ENROL), csv_rows(PAY)[0][:-3]])),
        [(None, 3, rf"^row has {len(WIDE) - 3} cells; the header has {len(WIDE)}$")],
    ),
    "csv-unterminated-quote": BadFile(
        "events.csv",
        raw(csv_bytes(WIDE, csv_rows(ENROL)) + b'1,"p1,payment_made,m1\n'),
        [(None, 3, r"^unreadable CSV: unexpected end of data$")],
    ),
    # Longer than the members table holds: refused at the field, not by the store.
    "jsonl-terms-version-too-long": BadFile(
        "events.jsonl",
        jsonl(line({**ENROL, "terms_version": "1" * 21})),
        [("terms_version", 1, r"^String should match pattern")],
    ),
    "parquet-terms-version-too-long": BadFile(
        "events.parquet",
        parquet(wide_table([{**ENROL, "terms_version": "1234567.1"}], wide_schema())),
        [("terms_version", 1, r"^String should match pattern")],
    ),
    "empty-jsonl": BadFile("events.jsonl", raw(b""), [(None, None, r"^file is empty: no events$")]),
    "jsonl-of-blank-lines": BadFile(
        "events.jsonl", raw(b"\n  \n\r\n"), [(None, None, r"^file is empty: no events$")]
    ),
    "empty-csv": BadFile(
        "events.csv", raw(b""), [(None, None, r"^file is empty: no header and no events$")]
    ),
    "csv-header-only": BadFile(
        "events.csv",
        raw(csv_bytes(WIDE, [])),
        [(None, None, r"^file has a header but no events$")],
    ),
    "parquet-with-zero-rows": BadFile(
        "events.parquet",
        parquet(wide_schema().empty_table()),
        [(None, None, r"^file is empty: no events$")],
    ),
    "parquet-that-is-not-parquet": BadFile(
        "events.parquet",
        raw(line(ENROL) + b"\n"),
        [(None, None, r"^not a readable Parquet file: .*magic bytes")],
    ),
    "huge-line": BadFile(
        "events.jsonl",
        jsonl(
            line(ENROL),
            line({**PAY, "channel": "x" * (1 << 20)}),
            line(payment("m1", "p2")),
        ),
        [(None, 2, r"^line is 1,048,\d{3} bytes; the limit is 1,048,576$")],
    ),
    "string-amount-in-json": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line({**PAY, "amount": "1250"})),
        [("amount", 2, r"^Input should be a valid integer \(got '1250'\)$")],
    ),
    "string-amount-column-in-parquet": BadFile(
        "events.parquet",
        parquet(wide_table([ENROL, {**PAY, "amount": "1250"}], with_amount_as_text())),
        [("amount", 2, r"^Input should be a valid integer \(got '1250'\)$")],
    ),
    "future-occurred-at": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line({**PAY, "occurred_at": FUTURE})),
        [("occurred_at", 2, r"^occurred_at .* is in the future")],
    ),
    "naive-occurred-at": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line({**PAY, "occurred_at": "2024-03-02T09:00:00"})),
        [("occurred_at", 2, r"^occurred_at needs a UTC offset")],
    ),
    "unknown-event-type": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line({**PAY, "type": "loan_forgiven"})),
        [("type", 2, r"^unknown event type 'loan_forgiven'; see docs/events.md")],
    ),
    "missing-type": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line({k: v for k, v in PAY.items() if k != "type"})),
        [("type", 2, r"^required field 'type' is missing$")],
    ),
    "unknown-field-for-the-type": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line({**PAY, "terms_version": "1.0"})),
        [("terms_version", 2, r"^unknown field for a payment_made event$")],
    ),
    "schema-version-2": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line({**PAY, "schema_version": 2})),
        [("schema_version", 2, r"^schema version 2 is not supported")],
    ),
    "negative-amount": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line(payment("m1", "p1", amount=-5))),
        [("amount", 2, r"^Input should be greater than 0 \(got -5\)$")],
    ),
    "conflicting-duplicate-in-one-file": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line(PAY), line(payment("m1", "p1", amount=999))),
        [
            (
                "event_id",
                3,
                r"^event_id 'p1' from partner:shop is already in the ledger with different",
            )
        ],
    ),
    "conflicting-duplicate-of-a-stored-event": BadFile(
        "events.jsonl",
        jsonl(line(payment("m1", "p2")), line(payment("m1", "p1", amount=999))),
        [
            (
                "event_id",
                2,
                r"^event_id 'p1' from partner:shop is already in the ledger with different",
            )
        ],
        before=[ENROL, PAY],
    ),
    "unknown-member": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line(payment("ghost", "p1"))),
        [
            (
                "member_id",
                2,
                r"^member 'ghost' is not enrolled: a member_enrolled event must come first",
            )
        ],
    ),
    "retraction-of-an-event-that-does-not-exist": BadFile(
        "events.jsonl",
        jsonl(line(ENROL), line(PAY), line(retraction("m1", "r1", "nothing"))),
        [("retracted_event_id", 3, r"^no event 'nothing' from partner:shop to retract")],
    ),
    "retraction-by-another-source": BadFile(
        "events.jsonl",
        jsonl(line(retraction("m1", "r1", "p1", source="partner:other"))),
        [
            (
                "retracted_event_id",
                1,
                r"^no event 'p1' from partner:other to retract; a source can only",
            )
        ],
        before=[ENROL, PAY],
    ),
}

#: Inputs found refused badly by the first version of the readers, now refused cleanly.
KNOWN_GAPS = [
    pytest.param(
        BadFile(
            "events.jsonl",
            jsonl(line(ENROL), line({**PAY, "occurred_at": "0001-01-01T00:00:00+05:30"})),
            [("occurred_at", 2, r"outside the calendar")],
        ),
        id="occurred-at-before-year-1-in-utc",
    ),
    pytest.param(
        BadFile(
            "events.jsonl",
            jsonl(line(ENROL), line(payment("m1", "p1", amount=2**63))),
            [("amount", 2, r"less than or equal")],
        ),
        id="amount-beyond-int64",
    ),
]


# --- the ledger's state ------------------------------------------------------------------------


def ledger_rows(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every stored event and member, whole, in key order."""
    with engine.connect() as connection:
        events = connection.execute(select(EVENTS).order_by(*EVENTS.primary_key.columns)).all()
        members = connection.execute(select(MEMBERS).order_by(MEMBERS.c.member_id)).all()
    return [tuple(r) for r in events], [tuple(r) for r in members]


def check_refused(
    engine: Engine, path: Path, expected: list[Expected], batch_size: int = 1
) -> None:
    with pytest.raises(IngestRejected, match=r"^\d+ error\(s\); nothing was written$") as caught:
        import_file(engine, path, batch_size=batch_size)
    errors = caught.value.report.errors
    assert [(e.field, e.line) for e in errors] == [(f, n) for f, n, _ in expected]
    for error, (_, _, pattern) in zip(errors, expected, strict=True):
        assert re.search(pattern, error.message), error.message
        assert error.file == str(path)
    assert caught.value.report.committed is False


class TestBadFiles:
    @pytest.mark.parametrize("batch_size", BATCH_SIZES)
    @pytest.mark.parametrize(
        "case", [*(pytest.param(c, id=k) for k, c in CASES.items()), *KNOWN_GAPS]
    )
    def test_refused_with_its_own_error_and_nothing_written(
        self, engine: Engine, tmp_path: Path, case: BadFile, batch_size: int
    ) -> None:
        if case.before:
            write_events(({**r} for r in case.before), tmp_path / "before.jsonl", kind="jsonl")
            assert import_file(engine, tmp_path / "before.jsonl").inserted == len(case.before)
        stored = ledger_rows(engine)
        path = tmp_path / case.name
        case.write(path)

        check_refused(engine, path, case.errors, batch_size)

        assert ledger_rows(engine) == stored
        if not case.before:
            assert ledger_rows(engine) == ([], [])

    def test_there_are_at_least_fifteen_kinds(self) -> None:
        assert len(CASES) >= 15

    def test_a_json_error_cites_no_line_but_the_files(
        self, sqlite_engine: Engine, tmp_path: Path
    ) -> None:
        path = tmp_path / "events.jsonl"
        jsonl(line(ENROL), line(PAY), line(payment("m1", "p2"))[:40])(path)

        with pytest.raises(IngestRejected, match="nothing was written") as caught:
            import_file(sqlite_engine, path)

        (error,) = caught.value.report.errors
        assert (error.line, error.field) == (3, None)
        assert re.search(r"\bline\b", error.message) is None, error.message

    def test_every_error_is_listed_not_just_the_first(self, engine: Engine, tmp_path: Path) -> None:
        path = tmp_path / "events.jsonl"
        jsonl(
            line(ENROL),
            line({**PAY, "amount": "1250"}),
            line(payment("ghost", "p2")),
            b"{",
            line({**payment("m1", "p3"), "occurred_at": FUTURE}),
        )(path)

        check_refused(
            engine,
            path,
            [
                ("amount", 2, "valid integer"),
                ("member_id", 3, "not enrolled"),
                (None, 4, "invalid JSON"),
                ("occurred_at", 5, "in the future"),
            ],
        )

        assert ledger_rows(engine) == ([], [])


class TestSkipInvalid:
    def test_valid_lines_go_in_and_each_rejected_line_is_written_with_its_errors(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        path = tmp_path / "events.jsonl"
        jsonl(
            line(ENROL),
            line(PAY),
            line(payment("m1", "p2", amount=-5)),
            line(PAY)[:30],
            line(payment("ghost", "p3")),
            line(payment("m1", "p4")),
        )(path)
        rejects_path = tmp_path / "rejects.jsonl"

        with rejects_file(rejects_path) as rejects:
            report = import_file(engine, path, rejects=rejects, batch_size=1)

        assert (report.inserted, report.rejected, report.committed) == (3, 3, True)
        events, members = ledger_rows(engine)
        assert sorted(row[EVENTS.c.keys().index("event_id")] for row in events) == [
            "enrol-m1",
            "p1",
            "p4",
        ]
        assert [row[0] for row in members] == ["m1"]
        rejected = [json.loads(text) for text in rejects_path.read_text().splitlines()]
        assert [(r["line"], [e["field"] for e in r["errors"]]) for r in rejected] == [
            (3, ["amount"]),
            (4, [None]),
            (5, ["member_id"]),
        ]
        assert [r["file"] for r in rejected] == [str(path)] * 3
        # An unparsable or invalid line is kept as its text, to be fixed and sent again.
        assert rejected[0]["record"] == line(payment("m1", "p2", amount=-5)).decode()
        assert rejected[1]["record"] == line(PAY)[:30].decode()
        assert rejected[2]["record"]["member_id"] == "ghost"
        assert re.search(r"not enrolled", rejected[2]["errors"][0]["message"])

    @pytest.mark.parametrize(
        "case",
        [
            pytest.param(CASES["csv-duplicate-header"], id="broken-header"),
            pytest.param(CASES["csv-unterminated-quote"], id="unterminated-quote-after-good-rows"),
            pytest.param(CASES["parquet-that-is-not-parquet"], id="not-parquet"),
        ],
    )
    def test_a_fatal_file_writes_nothing_even_with_rejects(
        self, engine: Engine, tmp_path: Path, case: BadFile
    ) -> None:
        path = tmp_path / case.name
        case.write(path)
        rejects_path = tmp_path / "rejects.jsonl"

        with (
            pytest.raises(IngestRejected, match="nothing was written"),
            rejects_file(rejects_path) as rejects,
        ):
            import_file(engine, path, rejects=rejects, batch_size=1)

        assert ledger_rows(engine) == ([], [])
        assert not rejects_path.exists()
        assert list(tmp_path.glob("rejects.jsonl*")) == []


def test_the_helpers_build_files_that_import(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Each case's file differs from a good one only where the case says."""
    good_csv = tmp_path / "good.csv"
    raw(csv_bytes(WIDE, csv_rows(ENROL, PAY)))(good_csv)
    good_parquet = tmp_path / "good.parquet"
    parquet(wide_table([enrolled("m2"), payment("m2", "q1")], wide_schema()))(good_parquet)

    assert import_file(sqlite_engine, good_csv).inserted == 2
    assert import_file(sqlite_engine, good_parquet).inserted == 2
