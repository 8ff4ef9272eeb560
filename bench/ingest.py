"""Import throughput and memory of the ledger, beside the store's own bulk-insert limit.

For JSONL and Parquet files of N events (default 1,000,000) and for SQLite and PostgreSQL,
this runs ``openscore ingest FILE`` in a fresh process on an empty store and reports events
per second and the process's peak memory. In the same run it measures the limit: the same
rows inserted with the driver's bulk path and no validation (``executemany`` into SQLite,
``COPY`` into PostgreSQL). Last, the peak memory of importing 5x as many events shows
whether memory is flat in file size.

    python bench/ingest.py [--events 1000000] [--large 5000000] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import create_engine, text

from openscore.db.engine import make_engine, normalise_url, upgrade
from openscore.db.types import POSTGRES_EPOCH_MICROS
from openscore.ledger.canonical import ROW_WIDTH
from openscore.ledger.files import read_events
from openscore.ledger.repository import COPY_TYPES, INSERT_COLUMNS
from openscore.ledger.sample import sample_events
from openscore.ledger.writers import write_events

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {("parquet", "sqlite"): 100_000, ("parquet", "postgresql"): 150_000}
EVENTS_PER_MEMBER = 152  # what sample_events makes in 12 months, on average


def make_file(folder: Path, kind: str, events: int) -> Path:
    path = folder / f"events-{events}.{kind}"
    if not path.exists():
        members = max(1, round(events / EVENTS_PER_MEMBER))
        written = write_events(sample_events(members, months=12, seed=1), path)
        print(f"  made {path.name}: {written:,} events", flush=True)
    return path


@contextmanager
def store(kind: str, folder: Path, postgres: str | None) -> Iterator[str]:
    """An empty store, as a URL another process can use."""
    if kind == "sqlite":
        path = folder / f"bench-{uuid.uuid4().hex[:8]}.db"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    assert postgres is not None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(postgres))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres else "?"
    try:
        yield f"{postgres}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


RATE = re.compile(r"([\d,]+) records in ([\d,.]+) s")
PEAK = re.compile(r"^VmHWM:\s+(\d+) kB", re.MULTILINE)
# The import runs in a process of its own, which reports its own high-water mark of resident
# memory (VmHWM starts afresh at exec; getrusage's maxrss would inherit this process's peak).
CHILD = """
import sys
from openscore.cli import app
try:
    app(args=sys.argv[1:], prog_name="openscore")
finally:
    with open("/proc/self/status") as status:
        sys.stderr.write(status.read())
"""


def run_import(url: str, path: Path) -> tuple[float, int, int]:
    """Import seconds (as the command reports them, start-up excluded), peak resident memory
    (bytes) and events stored, for one import process on an empty store."""
    upgrade(make_engine(url))  # schema first, so the timed run measures only the import
    env = {**os.environ, "OPENSCORE_DATABASE_URL": url, "COLUMNS": "200"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, "ingest", str(path)],
            env=env,
            stdout=out,
            stderr=err,
        )
        process.wait()
        out.seek(0)
        err.seek(0)
        errors = err.read().decode()
        if process.returncode != 0:
            raise SystemExit(f"import of {path} failed:\n{errors}")
        found = RATE.search(out.read().decode())
    peak = PEAK.search(errors)
    if found is None or peak is None:
        raise SystemExit(f"import of {path} printed no rate or no memory figure")
    seconds = float(found.group(2).replace(",", ""))
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = int(connection.execute(text("SELECT count(*) FROM events")).scalar_one())
    engine.dispose()
    return seconds, int(peak.group(1)) * 1024, stored


def prepared_rows(path: Path) -> list[tuple[object, ...]]:
    """The rows the ledger would store for a file (built outside any timing)."""
    import datetime as dt

    rows: list[tuple[object, ...]] = []
    for chunk in read_events(path, now=dt.datetime.now(dt.UTC)):
        rows.extend(event[:ROW_WIDTH] for event in chunk.events)
    return rows


def bulk_limit(url: str, rows: list[tuple[object, ...]]) -> float:
    """Events per second of the driver's bulk path into the same table, with no validation."""
    engine = make_engine(url)
    upgrade(engine)
    columns = ", ".join(INSERT_COLUMNS)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        start = time.perf_counter()
        if engine.dialect.name == "sqlite":
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            sql = f"INSERT INTO events ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1)"
            for first in range(0, len(rows), 50_000):
                cursor.executemany(sql, rows[first : first + 50_000])
            cursor.execute("COMMIT")
        else:
            shift = POSTGRES_EPOCH_MICROS
            copy_sql = f"COPY events ({columns}) FROM STDIN (FORMAT BINARY)"
            with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                copy.set_types(COPY_TYPES)
                for r in rows:
                    instant = int(r[4]) - shift  # type: ignore[call-overload]
                    copy.write_row((r[0], r[1], r[2], r[3], instant, r[5], r[6], 0, 1))
        seconds = time.perf_counter() - start
    engine.dispose()
    return len(rows) / seconds


def _met(condition: bool) -> str:
    return "met" if condition else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--large", type=int, default=5_000_000, help="events for the memory check (0: skip)"
    )
    parser.add_argument(
        "--postgres", default=os.environ.get("OPENSCORE_BENCH_DATABASE_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--folder", type=Path, default=Path(tempfile.gettempdir()) / "openscore-bench"
    )
    args = parser.parse_args()
    postgres = None if args.no_postgres else args.postgres
    stores = ["sqlite"] + (["postgresql"] if postgres else [])
    args.folder.mkdir(parents=True, exist_ok=True)

    print(f"ledger import benchmark: {args.events:,} events, machine: {os.cpu_count()} cores")
    files = {kind: make_file(args.folder, kind, args.events) for kind in ("jsonl", "parquet")}
    events = pq.ParquetFile(files["parquet"]).metadata.num_rows
    rows = prepared_rows(files["parquet"])

    header = ("file", "store", "events/s", "limit/s", "of limit", "peak MiB", "targets")
    print()
    print("{:8} {:11} {:>10} {:>10} {:>9} {:>9}  {}".format(*header))
    for kind in stores:
        with store(kind, args.folder, postgres) as url:
            limit = bulk_limit(url, rows)
        for file_kind, path in files.items():
            with store(kind, args.folder, postgres) as url:
                seconds, peak, stored = run_import(url, path)
            if stored != events:
                raise SystemExit(f"{file_kind} into {kind}: stored {stored:,} of {events:,} events")
            rate = events / seconds
            target = TARGETS.get((file_kind, kind))
            verdict = "40% of limit " + ("met" if rate >= 0.4 * limit else "NOT met")
            if target:
                verdict = (
                    f"{target // 1000}k/s "
                    + ("met" if rate >= target else "NOT met")
                    + "; "
                    + verdict
                )
            print(
                f"{file_kind:8} {kind:11} {rate:>10,.0f} {limit:>10,.0f} {rate / limit:>8.0%} "
                f"{peak / 2**20:>9,.0f}  {verdict}",
                flush=True,
            )

    if args.large:
        print("\npeak memory of a Parquet import into SQLite by file size")
        for size in (args.events, args.large):
            path = make_file(args.folder, "parquet", size)
            with store("sqlite", args.folder, None) as url:
                seconds, peak, stored = run_import(url, path)
            rate = stored / seconds
            print(f"  {stored:>10,} events: {peak / 2**20:,.0f} MiB peak, {rate:,.0f} events/s")


if __name__ == "__main__":
    main()
