"""Nothing acknowledged is lost: an import killed with SIGKILL and run again ends exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from openscore.db.tables import EventRecord
from openscore.ledger.sample import sample_events
from openscore.ledger.writers import write_events

FILES = 8
MEMBERS_PER_FILE = 165  # about 25,000 events a file, 200,000 in all


@pytest.fixture(scope="module")
def event_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    folder = tmp_path_factory.mktemp("crash") / "events"
    total = 0
    for number in range(FILES):
        # Each file is its own slice of members so the files are independent of each other.
        rows = (
            {
                **row,
                "member_id": f"f{number}-{row['member_id']}",
                "event_id": f"f{number}-{row['event_id']}",
                "peer_member_id": f"f{number}-{row['peer_member_id']}"
                if row["peer_member_id"]
                else None,
                "retracted_event_id": f"f{number}-{row['retracted_event_id']}"
                if row["retracted_event_id"]
                else None,
            }
            for row in sample_events(MEMBERS_PER_FILE, months=12, seed=number)
        )
        total += write_events(rows, folder / f"part-{number}.jsonl")
    return folder, total


def stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(EventRecord)).scalar_one())


def run_import(engine: Engine, folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENSCORE_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    return subprocess.Popen(
        [sys.executable, "-m", "openscore", "ingest", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_killed_import_rerun_ends_with_exactly_the_files_events(
    engine: Engine, event_files: tuple[Path, int]
) -> None:
    folder, total = event_files
    assert total >= 200_000

    process = run_import(engine, folder)
    deadline = time.monotonic() + 300
    # Kill once at least one file has committed and the import is still going.
    while stored(engine) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill = stored(engine)
    assert process.returncode == -signal.SIGKILL
    assert 0 < at_kill < total, "the import must be killed part-way for this test to mean anything"

    rerun = run_import(engine, folder)
    assert rerun.wait(timeout=600) == 0

    assert stored(engine) == total
    with engine.connect() as connection:
        repeated = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT source, event_id FROM events "
                "GROUP BY source, event_id HAVING count(*) > 1) AS repeated"
            )
        ).scalar_one()
    assert repeated == 0
