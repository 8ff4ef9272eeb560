"""Importing event files: each file is one transaction, committed whole or not at all."""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import Engine

from openscore.ledger.canonical import Prepared
from openscore.ledger.files import BATCH_SIZE, Advance, read_ahead, read_events
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.schemas import IngestError, IngestReport
from openscore.ledger.service import Ingestion, RejectSink
from openscore.ledger.validation import Parsed


@contextmanager
def few_collections() -> Iterator[None]:
    """Collect cyclic garbage rarely while importing.

    An import holds a chunk of validated events at a time and allocates millions of small
    objects that are freed by reference counting; the cycle collector would rescan the
    chunk again and again (a third of the validation time, measured). Cycles are still
    collected, just less often, and the threshold is restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def import_file(
    engine: Engine,
    path: Path,
    *,
    dry_run: bool = False,
    rejects: RejectSink | None = None,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
    advance: Advance | None = None,
) -> IngestReport:
    """Validate and append one file in one transaction.

    The whole file is parsed once; records are appended as they are validated, inside the
    transaction, and the transaction commits only if the file had no error (or its invalid
    records went to ``rejects``). A dry run does everything and then rolls back, so it also
    reports duplicates, conflicts and unknown members.
    """
    now = now or dt.datetime.now(dt.UTC)
    with engine.connect() as connection, few_collections():
        transaction = connection.begin()
        try:
            ingestion = Ingestion(
                LedgerRepository(connection),
                channel="file",
                origin=str(path),
                file=str(path),
                now=now,
                rejects=rejects,
            )
            chunks = read_events(path, now=now, batch_size=batch_size, advance=advance)
            for chunk in read_ahead(chunks):
                ingestion.feed(chunk)
            report = ingestion.finish()
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
            report.committed = False
        else:
            transaction.commit()
        return report


class RejectsFile:
    """Writes rejected records with their errors as JSONL; appears only when complete."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self._handle: IO[bytes] | None = None
        self.count = 0

    def __call__(self, parsed: Parsed | Prepared, errors: list[IngestError]) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.partial.open("wb")
        record: dict[str, Any] = {
            "file": errors[0].file if errors else None,
            "line": parsed.line,
            "errors": [e.model_dump(include={"field", "message"}) for e in errors],
            "record": parsed.as_record() if isinstance(parsed, Prepared) else parsed.raw,
        }
        self._handle.write(orjson.dumps(record, default=str) + b"\n")
        self.count += 1

    def close(self, *, keep: bool) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
            if keep:
                self.partial.replace(self.path)
            else:
                self.partial.unlink(missing_ok=True)


@contextmanager
def rejects_file(path: Path | None) -> Iterator[RejectsFile | None]:
    """A rejects writer for ``--skip-invalid``, kept only if the import goes through."""
    if path is None:
        yield None
        return
    writer = RejectsFile(path)
    try:
        yield writer
    except BaseException:
        writer.close(keep=False)
        raise
    writer.close(keep=True)
