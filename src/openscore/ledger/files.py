"""Streaming readers for event files: JSONL, CSV and Parquet, in batches with constant memory.

Each reader parses and validates in one pass and yields chunks of ``Parsed`` records with their
line (or row) numbers. A problem that makes the rest of a file unreadable (a broken header, a
CSV quote that never closes, a file that is not Parquet) is *fatal*: it is reported and the file
is refused even with ``--skip-invalid``, because lines after it could not be accounted for.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openscore.ledger.catalogue import ENVELOPE_FIELDS, EVENT_TYPES, type_fields
from openscore.ledger.validation import (
    UNKNOWN_TYPE,
    Parsed,
    parse_json,
    parse_mapping,
    validation_context,
)
from openscore.ledger.wide import wide_columns

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
MAX_LINE_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"

Advance = Callable[[int], None]


class FileProblem(Exception):
    """A path that cannot be imported at all (missing, unsupported kind, empty directory)."""


@dataclass(slots=True)
class Chunk:
    """Up to a batch of records; ``fatal`` when the file cannot be read past this point."""

    records: list[Parsed]
    fatal: bool = False


def discover(paths: Sequence[Path]) -> list[Path]:
    """The event files named by ``paths``: files as given, directories searched recursively.

    Directories yield their files in sorted path order, so month partitions import in time order.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not inside:
                raise FileProblem(f"{path}: no .jsonl, .ndjson, .csv or .parquet files inside")
            found.extend(inside)
        elif path.is_file():
            if path.suffix not in SUFFIXES:
                raise FileProblem(
                    f"{path}: unsupported file kind {path.suffix or '(none)'!r}; "
                    "use .jsonl, .ndjson, .csv or .parquet"
                )
            found.append(path)
        else:
            raise FileProblem(f"{path}: no such file or directory")
    return found


def file_size_hint(path: Path) -> int:
    """The total the progress bar counts to: bytes for text files, rows for Parquet."""
    if SUFFIXES[path.suffix] == "parquet":
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (pa.ArrowException, OSError):
            return 0
    return path.stat().st_size


def read_events(
    path: Path, *, now: dt.datetime, batch_size: int = 10_000, advance: Advance | None = None
) -> Iterator[Chunk]:
    """Parse and validate ``path`` in chunks of at most ``batch_size`` records."""
    readers = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}
    reader = readers[SUFFIXES[path.suffix]]
    yield from reader(path, validation_context(now), batch_size, advance or (lambda _: None))


def _fatal(line: int | None, message: str, field: str | None = None) -> Chunk:
    return Chunk([Parsed(line, None, [(field, message)])], fatal=True)


def _read_jsonl(
    path: Path, context: dict[str, Any], batch_size: int, advance: Advance
) -> Iterator[Chunk]:
    chunk: list[Parsed] = []
    line_no = 0
    seen_event = False
    with path.open("rb") as handle:
        while data := handle.readline(MAX_LINE_BYTES + 1):
            line_no += 1
            advance(len(data))
            if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
                size = len(data) + _skip_rest_of_line(handle, advance)
                message = f"line is {size:,} bytes; the limit is {MAX_LINE_BYTES:,}"
                chunk.append(Parsed(line_no, None, [(None, message)], None))
                continue
            if line_no == 1 and data.startswith(BOM):
                data = data[len(BOM) :]
            if not data.strip():
                continue
            seen_event = True
            chunk.append(_parse_line(data, line_no, context))
            if len(chunk) >= batch_size:
                yield Chunk(chunk)
                chunk = []
    if not seen_event:
        chunk.append(Parsed(None, None, [(None, "file is empty: no events")]))
    if chunk:
        yield Chunk(chunk)


def _skip_rest_of_line(handle: Any, advance: Advance) -> int:
    skipped = 0
    while part := handle.readline(MAX_LINE_BYTES):
        skipped += len(part)
        advance(len(part))
        if part.endswith(b"\n"):
            break
    return skipped


def _parse_line(data: bytes, line_no: int, context: dict[str, Any]) -> Parsed:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"not valid UTF-8: byte 0x{data[error.start]:02x} at column {error.start + 1}"
        return Parsed(line_no, None, [(None, message)], data.decode("utf-8", "replace"))
    parsed = parse_json(data, context)
    parsed.line = line_no
    if parsed.event is None:
        parsed.raw = data.decode("utf-8").rstrip("\r\n")
    return parsed


def check_columns(columns: Sequence[str]) -> list[tuple[str | None, str]]:
    """Problems with a CSV header or Parquet schema: duplicates, unknown and missing columns."""
    problems: list[tuple[str | None, str]] = []
    known = set(wide_columns())
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            problems.append((name, f"column {name!r} appears more than once"))
        seen.add(name)
        if name not in known:
            problems.append((name, f"unknown column {name!r}; see docs/events.md for the fields"))
    for name in ENVELOPE_FIELDS:
        if name not in seen:
            problems.append((name, f"required column {name!r} is missing"))
    return problems


def _read_csv(
    path: Path, context: dict[str, Any], batch_size: int, advance: Advance
) -> Iterator[Chunk]:
    decode_errors: dict[int, str] = {}

    def lines() -> Iterator[str]:
        with path.open("rb") as handle:
            for number, data in enumerate(handle, start=1):
                advance(len(data))
                if number == 1 and data.startswith(BOM):
                    data = data[len(BOM) :]
                try:
                    yield data.decode("utf-8")
                except UnicodeDecodeError as error:
                    decode_errors[number] = (
                        f"not valid UTF-8: byte 0x{data[error.start]:02x} "
                        f"at column {error.start + 1}"
                    )
                    yield data.decode("utf-8", "replace")

    reader = csv.reader(lines(), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        yield _fatal(None, "file is empty: no header and no events")
        return
    except csv.Error as error:
        yield _fatal(1, f"unreadable CSV header: {error}")
        return
    if 1 in decode_errors:
        yield _fatal(1, decode_errors[1])
        return
    problems = check_columns(header)
    if problems:
        yield Chunk([Parsed(1, None, problems)], fatal=True)
        return
    chunk: list[Parsed] = []
    previous_line = 1
    seen_event = False
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            chunk.append(Parsed(reader.line_num, None, [(None, f"unreadable CSV: {error}")]))
            yield Chunk(chunk, fatal=True)
            return
        line = reader.line_num
        encoding = [
            decode_errors.pop(n) for n in range(previous_line + 1, line + 1) if n in decode_errors
        ]
        previous_line = line
        if not row:
            continue
        seen_event = True
        if encoding:
            chunk.append(Parsed(line, None, [(None, encoding[0])], row))
        elif len(row) != len(header):
            message = f"row has {len(row)} cells; the header has {len(header)}"
            chunk.append(Parsed(line, None, [(None, message)], row))
        else:
            record = {name: value for name, value in zip(header, row, strict=True) if value != ""}
            parsed = parse_mapping(record, context, strings=True)
            parsed.line = line
            chunk.append(parsed)
        if len(chunk) >= batch_size:
            yield Chunk(chunk)
            chunk = []
    if not seen_event:
        chunk.append(Parsed(None, None, [(None, "file has a header but no events")]))
    if chunk:
        yield Chunk(chunk)


def _read_parquet(
    path: Path, context: dict[str, Any], batch_size: int, advance: Advance
) -> Iterator[Chunk]:
    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
    except (pa.ArrowException, OSError) as error:
        yield _fatal(None, f"not a readable Parquet file: {error}")
        return
    problems = check_columns(names)
    if problems:
        yield Chunk([Parsed(None, None, problems)], fatal=True)
        return
    if parquet.metadata.num_rows == 0:
        yield _fatal(None, "file is empty: no events")
        return
    first_row = 1
    try:
        for batch in parquet.iter_batches(batch_size=batch_size):
            yield Chunk(_parse_parquet_batch(batch, first_row, context))
            first_row += batch.num_rows
            advance(batch.num_rows)
    except (pa.ArrowException, OSError) as error:
        yield _fatal(first_row, f"unreadable Parquet data: {error}")


def _parse_parquet_batch(
    batch: pa.RecordBatch, first_row: int, context: dict[str, Any]
) -> list[Parsed]:
    """Validate a record batch one event type at a time, reading only the columns that matter.

    A column outside the type's fields is read only where it holds values, so pydantic names
    it as an unknown field; empty columns of other types cost nothing.
    """
    parsed: list[Parsed] = []
    types = batch.column("type")
    for event_type in pc.unique(types).to_pylist():
        mask = pc.is_null(types) if event_type is None else pc.equal(types, event_type)
        rows = pc.indices_nonzero(mask).to_pylist()
        part = batch.filter(mask)
        model = EVENT_TYPES.get(event_type) if event_type is not None else None
        allowed = set(ENVELOPE_FIELDS) | set(type_fields(model) if model else ())
        columns = [
            name
            for name in part.schema.names
            if name in allowed or part.column(name).null_count < part.num_rows
        ]
        values = {name: part.column(name).to_pylist() for name in columns}
        for position, row in enumerate(rows):
            record = {name: values[name][position] for name in columns}
            record = {name: value for name, value in record.items() if value is not None}
            result = parse_mapping(record, context)
            result.line = first_row + row
            parsed.append(result)
    parsed.sort(key=lambda item: item.line or 0)
    if not parsed:
        parsed.append(Parsed(first_row, None, [(None, "batch has no rows")], None, UNKNOWN_TYPE))
    return parsed
