"""The one-command demo: its calendar, a reduced run with --check, reuse, and named failures."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from openscore.config import Settings
from openscore.demo.cast import DemoCast, DemoMember
from openscore.demo.check import check_service, running
from openscore.demo.pipeline import DemoStepFailed
from openscore.demo.plan import DemoPlan
from openscore.demo.run import free_port

UTC = dt.UTC


class TestPlan:
    def test_the_city_ends_with_last_month(self) -> None:
        plan = DemoPlan.ending_last_month(2000, 24, 7, today=dt.date(2026, 11, 24))
        assert plan.start == dt.date(2024, 11, 1)
        assert plan.end == dt.datetime(2026, 10, 31, 23, 59, 59, 999999, UTC)

    def test_training_looks_a_year_ahead_of_its_as_of(self) -> None:
        plan = DemoPlan.ending_last_month(2000, 24, 7, today=dt.date(2026, 1, 5))
        assert plan.train_as_of == dt.datetime(2024, 12, 31, 23, 59, 59, 999999, UTC)
        assert plan.end == dt.datetime(2025, 12, 31, 23, 59, 59, 999999, UTC)

    def test_scores_month_ends_oldest_first(self) -> None:
        plan = DemoPlan.ending_last_month(2000, 24, 7, today=dt.date(2026, 3, 1))
        assert [as_of.date() for as_of in plan.score_as_ofs] == [
            dt.date(2025, 9, 30),
            dt.date(2025, 10, 31),
            dt.date(2025, 11, 30),
            dt.date(2025, 12, 31),
            dt.date(2026, 1, 31),
            dt.date(2026, 2, 28),
        ]

    def test_too_few_months_are_refused(self) -> None:
        with pytest.raises(ValueError, match="at least 18 months"):
            DemoPlan.ending_last_month(2000, 12, 7)


def _demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENSCORE_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("OPENSCORE_DATABASE_URL", None)
    command = [sys.executable, "-m", "openscore", "demo", "--members", "2000", "--check"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo")
    first = _demo(data_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "demo check passed" in first.stdout
    return data_dir


class TestReducedDemo:
    def test_every_step_ran_and_the_checks_passed(self, demo_dir: Path) -> None:
        models = list((demo_dir / "models").glob("sc-*.card.md"))
        assert len(models) == 1
        scored = sorted(path.name for path in (demo_dir / "scores").iterdir())
        assert len(scored) == 6

    def test_a_second_run_reuses_everything(self, demo_dir: Path) -> None:
        before = _live_demo_keys(demo_dir)
        assert len(before) == 2  # the partner's and the auditor's
        again = _demo(demo_dir)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "reusing the simulated city" in again.stdout
        assert "the city is already in the ledger" in again.stdout
        assert "reusing the champion model" in again.stdout
        assert "new events written" in again.stdout and ": 0 new events" in again.stdout
        assert len(list((demo_dir / "models").glob("sc-*.card.md"))) == 1
        # New keys were printed; the first run's no longer work.
        after = _live_demo_keys(demo_dir)
        assert len(after) == 2 and not after & before

    def test_a_failing_check_names_its_step(self, demo_dir: Path) -> None:
        from openscore.api.app import create_app

        settings = Settings(data_dir=demo_dir)
        cast = DemoCast([], "demo-bank", "osk_not-a-key", "osk_not-a-key")
        app = create_app(settings)
        with (
            running(app, "127.0.0.1", free_port("127.0.0.1")) as base,
            pytest.raises(DemoStepFailed, match="member sign-in") as failure,
        ):
            check_service(base, replace(cast, members=[_stranger()]))
        assert failure.value.step == "member sign-in"


def _stranger() -> DemoMember:
    return DemoMember(
        role="excellent",
        member_id="m9999999",
        password="wrong-password",
        score=700,
        band="excellent",
        pseudonym="psn_nobody",
        purpose="lending",
        level="answer",
    )


def _live_demo_keys(data_dir: Path) -> set[str]:
    from sqlalchemy.orm import Session

    from openscore.accounts.repository import AccountsRepository
    from openscore.db.engine import make_engine

    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url)
    try:
        with Session(engine) as session:
            rows = AccountsRepository(session).keys()
    finally:
        engine.dispose()
    return {row.key_id for row in rows if row.revoked_at is None}
