"""Simulator benchmark: events per second, wall time and peak memory per city size.

Each size runs in its own subprocess (so its peak resident memory is its own) and writes
Parquet to a temporary directory that is removed afterwards. Usage:

    .venv/bin/python bench/simulate.py            # 100,000 x 24 and 1,000,000 x 12
    .venv/bin/python bench/simulate.py --quick    # 20,000 x 12 only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from openscore.simulate.config import load_config
from openscore.simulate.writer import write_city

members, months, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
config = load_config(members=members, months=months, seed=7)
started = time.perf_counter()
_, figures = write_city(config, out)
wall = time.perf_counter() - started
size = sum(p.stat().st_size for p in (out / "events").rglob("*.parquet"))
print(json.dumps({
    "events": figures.events,
    "wall": wall,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "parquet_mib": size / 2**20,
    "default_rate": figures.annual_default_rate,
}))
"""

SIZES = [(100_000, 24), (100_000, 12), (1_000_000, 12)]


def run(members: int, months: int) -> dict[str, float]:
    """Simulate one city in a subprocess and return its figures."""
    with tempfile.TemporaryDirectory(prefix="openscore-bench-") as scratch:
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(members), str(months), str(Path(scratch) / "city")],
            check=True,
            capture_output=True,
            text=True,
        )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    """Print one row of figures per city size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small city only")
    sizes = [(20_000, 12)] if parser.parse_args().quick else SIZES
    print("simulate: Parquet, seed 7, default config; each size in its own process")
    print(
        f"{'members':>10} {'months':>6} {'events':>12} {'wall s':>8} {'events/s':>10} "
        f"{'peak MiB':>9} {'Parquet MiB':>11} {'default rate':>12}"
    )
    for members, months in sizes:
        f = run(members, months)
        print(
            f"{members:>10,} {months:>6} {int(f['events']):>12,} {f['wall']:>8.1f} "
            f"{f['events'] / f['wall']:>10,.0f} {f['peak_mib']:>9,.0f} {f['parquet_mib']:>11,.0f} "
            f"{100 * f['default_rate']:>11.2f}%"
        )


if __name__ == "__main__":
    main()
