"""Writing events as JSONL, CSV or Parquet files that ``openscore ingest`` reads back unchanged."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from openscore.ledger.wide import format_csv_value, wide_columns, wide_schema

WRITE_CHUNK = 50_000


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def write_events(rows: Iterable[dict[str, Any]], path: Path, *, kind: str | None = None) -> int:
    """Write wide rows (envelope + fields; ``None`` for absent) to ``path``; returns the count.

    ``kind`` is ``jsonl``, ``csv`` or ``parquet``; by default the file's suffix decides.
    """
    kind = kind or path.suffix.lstrip(".")
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if kind in ("jsonl", "ndjson"):
        with path.open("wb") as handle:
            for row in rows:
                present = {k: v for k, v in row.items() if v is not None}
                handle.write(orjson.dumps(present, option=orjson.OPT_UTC_Z) + b"\n")
                count += 1
    elif kind == "csv":
        columns = wide_columns()
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([format_csv_value(row.get(name)) for name in columns])
                count += 1
    elif kind == "parquet":
        schema = wide_schema()
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for batch in _batches(rows, WRITE_CHUNK):
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
    else:
        raise ValueError(f"unsupported event file kind {kind!r}; use jsonl, csv or parquet")
    return count
