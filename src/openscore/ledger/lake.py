"""Exporting the ledger to a Parquet lake partitioned by month, by sequence-number watermark.

Layout: ``<lake>/events/month=YYYY-MM/part-<first seq>-<last seq>.parquet`` (Hive style, so
DuckDB and Spark read the partitions directly). Each export covers the events with
``watermark < seq <= max(seq)`` at its start. Files are written under a temporary name,
renamed when complete, and only then is the watermark moved, in its own transaction. A
crash between the rename and the commit leaves files whose first sequence number is above
the watermark; the next export deletes those before writing, so nothing is exported twice.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from openscore.ledger.catalogue import ENVELOPE_FIELDS
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.wide import stored_to_wide, wide_schema

PART_NAME = re.compile(r"^part-(\d{12})-(\d{12})\.parquet(\.tmp)?$")
EXPORT_CHUNK = 50_000


@cache
def lake_schema() -> pa.Schema:
    """The wide event schema plus the ledger's own columns: sequence number and receipt time."""
    return (
        wide_schema()
        .append(pa.field("seq", pa.int64(), nullable=False))
        .append(pa.field("received_at", pa.timestamp("us", tz="UTC"), nullable=False))
    )


@dataclass
class ExportReport:
    lake: Path
    exported: int = 0
    files: list[Path] = field(default_factory=list)
    from_seq: int = 0
    to_seq: int = 0


@contextmanager
def _exclusive(lake: Path) -> Iterator[None]:
    """One export per lake at a time (a second one waits)."""
    lake.mkdir(parents=True, exist_ok=True)
    with (lake / ".export.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_uncommitted(events_dir: Path, watermark: int) -> None:
    for path in events_dir.glob("month=*/part-*"):
        match = PART_NAME.match(path.name)
        if match and (match.group(3) or int(match.group(1)) > watermark):
            path.unlink()


def export_lake(
    engine: Engine,
    lake: Path,
    *,
    now: dt.datetime | None = None,
    chunk: int = EXPORT_CHUNK,
    advance: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write every event not yet in ``lake`` to it; a second run writes nothing new."""
    lake = lake.resolve()
    key = str(lake)
    events_dir = lake / "events"
    report = ExportReport(lake)
    with _exclusive(lake):
        with engine.connect() as connection:
            repository = LedgerRepository(connection)
            watermark = repository.watermark(key)
            upto = repository.max_seq()
            _remove_uncommitted(events_dir, watermark)
            if upto <= watermark:
                return report
            report.from_seq, report.to_seq = watermark + 1, upto
            writers: dict[str, pq.ParquetWriter] = {}
            paths: dict[str, Path] = {}
            try:
                for rows in repository.events_between(watermark, upto, chunk):
                    for month, table in _by_month(rows).items():
                        if month not in writers:
                            final = (
                                events_dir
                                / f"month={month}"
                                / f"part-{watermark + 1:012d}-{upto:012d}.parquet"
                            )
                            final.parent.mkdir(parents=True, exist_ok=True)
                            paths[month] = final
                            writers[month] = pq.ParquetWriter(
                                final.with_name(final.name + ".tmp"),
                                lake_schema(),
                                compression="zstd",
                            )
                        writers[month].write_table(table)
                    report.exported += len(rows)
                    if advance:
                        advance(len(rows))
            finally:
                for writer in writers.values():
                    writer.close()
            for month in sorted(paths):
                temporary = paths[month].with_name(paths[month].name + ".tmp")
                with temporary.open("rb") as handle:
                    os.fsync(handle.fileno())
                temporary.replace(paths[month])
                report.files.append(paths[month])
            _fsync_dir(events_dir)
        with engine.begin() as connection:
            LedgerRepository(connection).set_watermark(key, upto, now or dt.datetime.now(dt.UTC))
    return report


def _fsync_dir(path: Path) -> None:
    for directory in [path, *path.glob("month=*")]:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: The stored columns each lake row carries besides the event's own fields.
_LAKE_COLUMNS = (*ENVELOPE_FIELDS, "seq", "received_at")


def _by_month(rows: list[Any]) -> dict[str, pa.Table]:
    """Stored rows as wide Arrow tables, one per month of ``occurred_at``."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        record = stored_to_wide(row, _LAKE_COLUMNS)
        grouped.setdefault(row.occurred_at.strftime("%Y-%m"), []).append(record)
    return {
        month: pa.Table.from_pylist(items, schema=lake_schema()) for month, items in grouped.items()
    }
