"""Streaming readers for event files: JSONL, CSV and Parquet, in batches with constant memory.

Each reader parses and validates in one pass and yields chunks of ``Parsed`` records with their
line (or row) numbers. A problem that makes the rest of a file unreadable (a broken header, a
CSV quote that never closes, a file that is not Parquet) is *fatal*: it is reported and the file
is refused even with ``--skip-invalid``, because lines after it could not be accounted for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from queue import Full, Queue
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from openscore.ledger.arrowcheck import accepted, prepare_accepted
from openscore.ledger.canonical import Prepared
from openscore.ledger.catalogue import ENVELOPE_FIELDS, EVENT_TYPES
from openscore.ledger.validation import Parsed, parse_json, parse_mapping, validation_context
from openscore.ledger.wide import wide_columns, wide_schema

#: Records per chunk: large enough that Arrow's per-call costs vanish, small enough to stream.
BATCH_SIZE = 50_000
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
MAX_LINE_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"

Advance = Callable[[int], None]


class FileProblem(Exception):
    """A path that cannot be imported at all (missing, unsupported kind, empty directory)."""


@dataclass(slots=True)
class Chunk:
    """Up to a batch of records, valid and not, in file order within each list.

    ``fatal`` when the file cannot be read past this point.
    """

    events: list[Prepared] = field(default_factory=list)
    rejected: list[Parsed] = field(default_factory=list)
    fatal: bool = False

    def add(self, record: Prepared | Parsed) -> None:
        if isinstance(record, Prepared):
            self.events.append(record)
        else:
            self.rejected.append(record)

    def __len__(self) -> int:
        return len(self.events) + len(self.rejected)


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
    path: Path, *, now: dt.datetime, batch_size: int = BATCH_SIZE, advance: Advance | None = None
) -> Iterator[Chunk]:
    """Parse and validate ``path`` in chunks of at most ``batch_size`` records."""
    readers = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}
    reader = readers[SUFFIXES[path.suffix]]
    yield from reader(path, validation_context(now), batch_size, advance or (lambda _: None))


def read_ahead(chunks: Iterator[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """Read the next chunks in a thread while the caller writes this one.

    Parquet decoding, Arrow kernels and SQLite's own work release the GIL, so reading and
    writing overlap. At most ``depth`` chunks wait, so memory stays bounded; an error in the
    reader is raised in the caller; if the caller stops early, the reader stops too.
    """
    queue: Queue[Chunk | BaseException | None] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        queue.put(chunk, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(None)
        except BaseException as error:  # handed to the consumer, raised there
            queue.put(error)

    reader = threading.Thread(target=produce, name="openscore-reader", daemon=True)
    reader.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _fatal(line: int | None, message: str, field_name: str | None = None) -> Chunk:
    return Chunk(rejected=[Parsed(line, [(field_name, message)])], fatal=True)


def _read_jsonl(
    path: Path, context: dict[str, Any], batch_size: int, advance: Advance
) -> Iterator[Chunk]:
    """JSON lines in blocks: a clean block is screened and parsed whole; others line by line."""
    line_no = 0
    seen_event = False
    with path.open("rb") as handle:
        while True:
            lines = handle.readlines(JSONL_BLOCK_BYTES)
            if not lines:
                break
            size = sum(map(len, lines))
            if line_no == 0 and lines[0].startswith(BOM):
                lines[0] = lines[0][len(BOM) :]
            for start in range(0, len(lines), batch_size):
                part = lines[start : start + batch_size]
                chunk, found = _jsonl_lines(part, line_no + start + 1, context)
                seen_event |= found
                if len(chunk):
                    yield chunk
            line_no += len(lines)
            advance(size)
    if not seen_event:
        yield Chunk(rejected=[Parsed(None, [(None, "file is empty: no events")])])


#: Bytes of JSON lines read at a time, about one batch (whole lines: a line longer than the
#: limit is read whole, then refused).
JSONL_BLOCK_BYTES = 12 << 20


def _jsonl_lines(lines: list[bytes], first: int, context: dict[str, Any]) -> tuple[Chunk, bool]:
    """Validate consecutive lines starting at line ``first``; also says if any held an event."""
    # The screen is cheap and C-level: no line too long, none too short to hold an object
    # (a blank line is one or two bytes), and valid UTF-8 throughout. A whitespace-only line
    # that slips through makes Arrow's row count differ, which sends the block below too.
    screened = max(map(len, lines)) <= MAX_LINE_BYTES and min(map(len, lines)) > 2
    if screened:
        joined = b"".join(lines)
        screened = _utf8_error(joined) is None
        table = json_lines_table(lines, joined) if screened else None
        if table is not None:
            every_line = list(range(first, first + len(lines)))
            return _jsonl_block(lines, every_line, Chunk(), context, table), True
    # Something is off somewhere in this block: sort it out line by line.
    early = Chunk()
    kept: list[bytes] = []
    numbers: list[int] = []
    for number, data in enumerate(lines, start=first):
        if len(data) > MAX_LINE_BYTES:
            message = f"line is {len(data):,} bytes; the limit is {MAX_LINE_BYTES:,}"
            early.add(Parsed(number, [(None, message)]))
        elif not data.strip():
            continue
        elif (error := _utf8_error(data)) is not None:
            message = f"not valid UTF-8: byte 0x{data[error.start]:02x} at column {error.start + 1}"
            early.add(Parsed(number, [(None, message)], data.decode("utf-8", "replace")))
        else:
            kept.append(data)
            numbers.append(number)
    found = bool(kept) or bool(early.rejected)
    # Arrow has already refused these very lines if the screen passed and none was dropped:
    # then they go straight to pydantic rather than through a second failed parse.
    retry_arrow = not (screened and len(kept) == len(lines))
    return _jsonl_block(kept, numbers, early, context, arrow=retry_arrow), found


def _utf8_error(data: bytes) -> UnicodeDecodeError | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error
    return None


def _jsonl_block(
    block: list[bytes],
    lines: list[int],
    chunk: Chunk,
    context: dict[str, Any],
    table: pa.Table | None = None,
    *,
    arrow: bool = True,
) -> Chunk:
    """Validate JSON lines: vectorised where possible, line by line otherwise."""
    if not block:
        return chunk
    if table is None and arrow:
        table = json_lines_table(block)

    def one_line(row: int) -> Prepared | Parsed:
        parsed = parse_json(block[row], context, lines[row])
        if isinstance(parsed, Parsed):
            parsed.raw = block[row].decode("utf-8").rstrip("\r\n")
        return parsed

    if table is None:
        for row in range(len(block)):
            chunk.add(one_line(row))
    else:
        _check_table(table, lines, one_line, context["now"], chunk)
    _sort(chunk)
    return chunk


def _sort(chunk: Chunk) -> None:
    chunk.events.sort(key=lambda e: e.line or 0)
    chunk.rejected.sort(key=lambda p: p.line or 0)


def _check_table(
    table: pa.Table,
    lines: list[int],
    one_row: Any,
    now: dt.datetime,
    chunk: Chunk,
) -> None:
    """Split a table by event type; accepted rows in bulk, the rest one by one via pydantic."""
    types = table.column("type")
    if types.null_count:
        for row in range(table.num_rows):
            chunk.add(one_row(row))
        return
    for event_type in pc.unique(types).to_pylist():
        mask = pc.equal(types, pa.scalar(event_type, types.type))
        rows = pc.indices_nonzero(mask).to_numpy()
        part = table.filter(mask)
        if event_type not in EVENT_TYPES:
            for row in rows:
                chunk.add(one_row(int(row)))
            continue
        ok = accepted(part, event_type, now).to_numpy(zero_copy_only=False)
        good = part.filter(pa.array(ok))
        chunk.events.extend(prepare_accepted(good, event_type, [lines[int(r)] for r in rows[ok]]))
        for row in rows[~ok]:
            chunk.add(one_row(int(row)))


def json_lines_table(lines: list[bytes], joined: bytes | None = None) -> pa.Table | None:
    """JSON lines as a wide table, or None when Arrow cannot read them strictly.

    Dates and instants are read as text and converted here, by rules no looser than the
    catalogue's (pyarrow's own JSON reader would take a naive time as UTC).
    """
    if not lines:
        return None
    if joined is not None and lines[-1].endswith(b"\n"):
        data = joined
    else:
        data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
    try:
        table = pajson.read_json(
            io.BytesIO(data),
            read_options=pajson.ReadOptions(use_threads=True, block_size=len(data) + 1),
            parse_options=pajson.ParseOptions(
                explicit_schema=_json_schema(), unexpected_field_behavior="error"
            ),
        )
        if table.num_rows != len(lines):
            return None
        for name in table.column_names:
            target = wide_schema().field(name).type
            if pa.types.is_timestamp(target):
                table = _convert(table, name, INSTANT, target)
            elif pa.types.is_date32(target):
                table = _convert(table, name, DATE, target)
    except (pa.ArrowException, ValueError):
        return None
    return table


INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _convert(table: pa.Table, name: str, pattern: str, target: pa.DataType) -> pa.Table:
    column = table[name]
    strict = pc.if_else(pc.match_substring_regex(column, pattern=pattern), column, None)
    return table.set_column(table.column_names.index(name), name, pc.cast(strict, target))


@cache
def _json_schema() -> pa.Schema:
    fields = []
    for item in wide_schema():
        text_kind = pa.types.is_timestamp(item.type) or pa.types.is_date32(item.type)
        fields.append(pa.field(item.name, pa.string() if text_kind else item.type))
    return pa.schema(fields)


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
    read = 0  # bytes read since progress was last reported (once a chunk, not once a line)

    def lines() -> Iterator[str]:
        nonlocal read
        with path.open("rb") as handle:
            for number, data in enumerate(handle, start=1):
                read += len(data)
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
        yield Chunk(rejected=[Parsed(1, problems)], fatal=True)
        return
    chunk = Chunk()
    previous_line = 1
    seen_event = False
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            chunk.add(Parsed(reader.line_num, [(None, f"unreadable CSV: {error}")]))
            chunk.fatal = True
            yield chunk
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
            chunk.add(Parsed(line, [(None, encoding[0])], row))
        elif len(row) != len(header):
            message = f"row has {len(row)} cells; the header has {len(header)}"
            chunk.add(Parsed(line, [(None, message)], row))
        else:
            record = {name: value for name, value in zip(header, row, strict=True) if value != ""}
            chunk.add(parse_mapping(record, context, line, strings=True))
        if len(chunk) >= batch_size:
            advance(read)
            read = 0
            yield chunk
            chunk = Chunk()
    advance(read)
    if not seen_event:
        chunk.add(Parsed(None, [(None, "file has a header but no events")]))
    if len(chunk):
        yield chunk


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
        yield Chunk(rejected=[Parsed(None, problems)], fatal=True)
        return
    if parquet.metadata.num_rows == 0:
        yield _fatal(None, "file is empty: no events")
        return
    first_row = 1
    try:
        for batch in parquet.iter_batches(batch_size=batch_size):
            yield _parquet_batch(batch, first_row, context)
            first_row += batch.num_rows
            advance(batch.num_rows)
    except (pa.ArrowException, OSError) as error:
        yield _fatal(first_row, f"unreadable Parquet data: {error}")


def _parquet_batch(batch: pa.RecordBatch, first_row: int, context: dict[str, Any]) -> Chunk:
    """Validate a record batch: vectorised where possible, row by row otherwise."""
    table = pa.Table.from_batches([batch])
    lines = list(range(first_row, first_row + table.num_rows))

    def one_row(row: int) -> Prepared | Parsed:
        record = {k: v for k, v in table.slice(row, 1).to_pylist()[0].items() if v is not None}
        return parse_mapping(record, context, lines[row])

    chunk = Chunk()
    _check_table(table, lines, one_row, context["now"], chunk)
    _sort(chunk)
    return chunk
