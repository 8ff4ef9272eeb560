"""Writing a city: month files of events, the truth, and the summary, all or nothing.

Everything is written into a temporary directory beside the target and renamed into place at
the end, so a failed or interrupted run leaves nothing behind. Month files follow the hive
layout ``events/month=YYYY-MM/part-00000.parquet`` (or ``.jsonl``), which sorts in time
order: the order ``openscore ingest`` reads them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from openscore.ledger.wide import wide_schema
from openscore.simulate.clock import Month
from openscore.simulate.config import SimulationConfig
from openscore.simulate.engine import CityRun, EventSink, simulate
from openscore.simulate.jsonl import json_lines
from openscore.simulate.summary import Figures, city_figures, summary_markdown
from openscore.simulate.truth import PARQUET_OPTIONS, write_truth

Format = Literal["parquet", "jsonl"]


class OutputError(ValueError):
    """The output directory cannot be used."""


def month_path(root: Path, month: Month, file_format: Format) -> Path:
    """Where a month's events go under ``root``."""
    return root / f"month={month.label}" / f"part-00000.{file_format}"


#: Identifier columns: nearly every value distinct, so dictionary encoding only costs time.
_UNIQUE_COLUMNS = frozenset(
    {
        "event_id",
        "member_id",
        "peer_member_id",
        "bill_id",
        "loan_id",
        "rental_id",
        "evidence_ref",
        "case_id",
        "retracted_event_id",
    }
)


def event_file_options() -> dict[str, object]:
    """Fixed Parquet options for event files (the same city gives the same bytes)."""
    schema = wide_schema()
    dictionary = [
        f.name for f in schema if pa.types.is_string(f.type) and f.name not in _UNIQUE_COLUMNS
    ]
    return {**PARQUET_OPTIONS, "compression_level": 1, "use_dictionary": dictionary}


def write_parquet(path: Path, tables: Iterator[pa.Table]) -> int:
    """Write tables (one row group each) to one Parquet file; return the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with pq.ParquetWriter(path, wide_schema(), **event_file_options()) as writer:
        for table in tables:
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
            rows += table.num_rows
    return rows


def write_jsonl(path: Path, tables: Iterator[pa.Table]) -> int:
    """Write tables as JSON lines; return the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("wb") as handle:
        for table in tables:
            handle.write(json_lines(table))
            rows += table.num_rows
    return rows


@dataclass
class FileSink:
    """Writes each month to its own file under ``root``."""

    root: Path
    file_format: Format = "parquet"

    def write_month(self, month: Month, tables: Iterator[pa.Table]) -> None:
        """Write the month's events to ``month=YYYY-MM/part-00000.<format>``."""
        path = month_path(self.root, month, self.file_format)
        if self.file_format == "parquet":
            write_parquet(path, tables)
        else:
            write_jsonl(path, tables)


@dataclass
class LedgerSink:
    """Ingests each month into the ledger through its file import, one month at a time."""

    engine: Any
    scratch: Path
    ingest: Callable[[Any, Path], Any]

    def write_month(self, month: Month, tables: Iterator[pa.Table]) -> None:
        """Write the month to a scratch Parquet file, ingest it, and delete the file."""
        path = month_path(self.scratch, month, "parquet")
        write_parquet(path, tables)
        try:
            self.ingest(self.engine, path)
        finally:
            path.unlink()


def _prepare(out: Path) -> Path:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"{out} already exists and is not empty; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    scratch.chmod(0o755)  # mkdtemp makes it private; the city is an ordinary directory
    return scratch


def _finish(scratch: Path, out: Path) -> None:
    if out.exists():
        out.rmdir()
    scratch.rename(out)


def write_city(
    config: SimulationConfig,
    out: Path,
    *,
    file_format: Format = "parquet",
    ledger: tuple[Any, Callable[[Any, Path], Any]] | None = None,
    on_month: Callable[[Month, int], None] | None = None,
) -> tuple[CityRun, Figures]:
    """Simulate ``config`` into ``out``: ``events/`` (or the ledger), ``truth/``, ``summary.md``.

    With ``ledger`` (an engine and an ingest function), months go into the ledger instead of
    ``events/``; the truth and the summary are still written to ``out``.
    """
    scratch = _prepare(out)
    try:
        sink: EventSink
        if ledger is None:
            sink = FileSink(scratch / "events", file_format)
        else:
            sink = LedgerSink(ledger[0], scratch / ".ingest", ledger[1])
        run = simulate(config, sink, on_month=on_month)
        if ledger is not None:
            shutil.rmtree(scratch / ".ingest", ignore_errors=True)
        write_truth(run, scratch / "truth")
        figures = city_figures(run)
        (scratch / "summary.md").write_text(summary_markdown(run, figures), encoding="utf-8")
        _finish(scratch, out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return run, figures
