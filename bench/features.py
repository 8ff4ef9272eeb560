"""Feature computation: DuckDB beside its bare limit, Spark beside DuckDB, and the online path.

1. A simulated lake of N members (default 1,000,000 over 4 months, about 56 million events):
   wall time and peak memory of every feature on DuckDB, and in the same run the limit, one
   bare DuckDB pass over the same Parquet that only counts events and sums amounts per
   member. Target: all features within 4x of the bare pass.
2. Spark local[2] on a lake of M members (default 100,000), with DuckDB's time on the same data.
3. Online features for one member with 500 events: median and 99th percentile latency
   (targets: 20 ms and 50 ms).

Each batch run is its own process, so its peak memory (max RSS) is its own. Cities are
simulated once into --workdir and reused.

    python bench/features.py [--members 1000000] [--months 4] [--spark-members 100000]
                             [--online-events 500] [--workdir .openscore/bench] [--no-spark]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

START = dt.date(2026, 1, 1)


def _city(workdir: Path, members: int, months: int, seed: int) -> Path:
    out = workdir / f"city-{members}-{months}-{seed}"
    if not (out / "events").is_dir():
        from openscore.simulate.config import load_config
        from openscore.simulate.writer import write_city

        print(f"simulating {members:,} members over {months} months into {out} ...", flush=True)
        write_city(load_config(None, members=members, months=months, seed=seed, start=START), out)
    return out


def _as_of(months: int) -> dt.datetime:
    year, month = divmod(START.month - 1 + months, 12)
    first_after = dt.date(START.year + year, month + 1, 1)
    return dt.datetime.combine(first_after, dt.time(), dt.UTC) - dt.timedelta(microseconds=1)


def _child(kind: str, lake: Path, as_of: dt.datetime, out: Path) -> dict[str, Any]:
    """Run one measurement in a fresh process; it reports its own wall time and peak memory."""
    command = [sys.executable, __file__, "--child", kind, str(lake), as_of.isoformat(), str(out)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def _run_child(kind: str, lake: Path, as_of: dt.datetime, out: Path) -> None:
    started = time.perf_counter()
    jvm_peak = 0.0
    if kind == "bare":
        import duckdb

        pattern = str(lake / "events" / "*" / "*.parquet")
        connection = duckdb.connect()
        connection.execute(
            f"COPY (SELECT member_id, count(*) AS events, sum(amount) AS amount "
            f"FROM read_parquet('{pattern}') GROUP BY member_id) TO '{out}' (FORMAT parquet)"
        )
        rows = connection.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]  # type: ignore[index]
    else:
        from openscore.features.engines import FeatureRequest, SparkConfig, get_engine

        config = SparkConfig(driver_memory="6g") if kind == "spark" else None
        engine = get_engine(kind, config)
        try:
            rows = engine.write(FeatureRequest(as_of=as_of, lake=lake), out)
            if kind == "spark":
                jvm_peak = _jvm_peak_mb()
        finally:
            engine.close()
    seconds = time.perf_counter() - started
    # Spark's work is in the JVM, a child process still running here: its peak is read
    # from /proc before the session stops and added to ours.
    peak = _own_peak_mb() + jvm_peak
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "rows": rows}))


def _jvm_peak_mb() -> float:
    """The peak resident memory of this process's Spark JVM (0 if it cannot be read)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    process = getattr(gateway, "proc", None) if gateway is not None else None
    if process is None:
        return 0.0
    return _peak_mb_of(f"/proc/{process.pid}/status")


def _own_peak_mb() -> float:
    """This process's peak resident memory since it started.

    Not ``ru_maxrss``: Linux carries it across ``exec``, so a child started by a parent that
    had simulated a million-member city reported the parent's 4.3 GB whatever it used itself.
    ``VmHWM`` belongs to the process's own address space, new at ``exec``.
    """
    return _peak_mb_of("/proc/self/status") or (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )


def _peak_mb_of(status: str) -> float:
    """``VmHWM`` from a Linux ``/proc/<pid>/status`` file, in MB (0 if not there)."""
    try:
        for line in Path(status).read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _events(lake: Path) -> int:
    import duckdb

    pattern = str(lake / "events" / "*" / "*.parquet")
    (count,) = duckdb.sql(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchone()  # type: ignore[misc]
    return int(count)


def _print_runs(runs: tuple[tuple[str, dict[str, Any]], ...]) -> None:
    for name, report in runs:
        print(
            f"{name:>24}: {report['seconds']:8.1f} s  peak {report['peak_mb']:8,.0f} MB  "
            f"{report['rows']:,} members"
        )


def batch(workdir: Path, members: int, months: int, seed: int) -> float:
    lake = _city(workdir, members, months, seed)
    as_of = _as_of(months)
    events = _events(lake)
    print(f"\n== DuckDB, {members:,} members, {events:,} events, as of {as_of:%Y-%m-%d} ==")
    bare = _child("bare", lake, as_of, workdir / "bare.parquet")
    full = _child("duckdb", lake, as_of, workdir / "features-duckdb")
    _print_runs((("bare pass (count, sum)", bare), ("all features", full)))
    ratio = full["seconds"] / bare["seconds"]
    verdict = "within" if ratio <= 4 else "NOT within"
    print(f"{'features / bare':>24}: {ratio:8.1f} x  ({verdict} the 4x target)")
    return float(full["seconds"])


def spark(workdir: Path, members: int, months: int, seed: int) -> None:
    lake = _city(workdir, members, months, seed)
    as_of = _as_of(months)
    print(f"\n== Spark local[2] beside DuckDB, {members:,} members, {_events(lake):,} events ==")
    duck = _child("duckdb", lake, as_of, workdir / "features-duckdb-small")
    sparked = _child("spark", lake, as_of, workdir / "features-spark")
    _print_runs((("DuckDB", duck), ("Spark local[2]", sparked)))


def online(events: int, calls: int) -> None:
    from openscore.features.online import OnlineFeatures
    from openscore.ledger.sample import sample_events

    rows = list(sample_events(1, months=events // 12 + 3, seed=1))[:events]
    as_of = max(r["occurred_at"] for r in rows)
    print(f"\n== Online, one member with {len(rows)} events, {calls} calls ==")
    started = time.perf_counter()
    features = OnlineFeatures()
    print(f"{'first call set-up':>24}: {1000 * (time.perf_counter() - started):8.1f} ms")
    # As in `openscore serve` (openscore.api.app.settle_for_serving): the heap of a loaded
    # process is frozen, so full collections do not walk it on a request's time.
    gc.collect()
    gc.freeze()
    timings = []
    for call in range(calls + 20):
        started = time.perf_counter()
        features.compute(rows[0]["member_id"], rows, as_of)
        if call >= 20:  # the first calls warm caches
            timings.append(1000 * (time.perf_counter() - started))
    timings.sort()
    p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
    print(f"{'median':>24}: {statistics.median(timings):8.1f} ms  (target 20)")
    print(f"{'99th percentile':>24}: {p99:8.1f} ms  (target 50)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, lake, as_of, out = sys.argv[2:6]
        _run_child(kind, Path(lake), dt.datetime.fromisoformat(as_of), Path(out))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--spark-members", type=int, default=100_000)
    parser.add_argument("--online-events", type=int, default=500)
    parser.add_argument("--online-calls", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(".openscore/bench"))
    parser.add_argument("--no-spark", action="store_true", help="Skip the Spark comparison.")
    parser.add_argument("--no-batch", action="store_true", help="Skip the large DuckDB run.")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    online(args.online_events, args.online_calls)
    if not args.no_batch:
        batch(args.workdir, args.members, args.months, args.seed)
    if not args.no_spark:
        spark(args.workdir, args.spark_members, args.months, args.seed)


if __name__ == "__main__":
    main()
