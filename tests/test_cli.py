"""The command line as an operator uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openscore.cli import app
from tests.ledger.factory import enrolled, payment
from tests.ledger.test_ingest import write_jsonl

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENSCORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENSCORE_DATABASE_URL", raising=False)
    return tmp_path / "data"


def test_ingest_prints_summary_and_is_idempotent(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "e.jsonl", [enrolled("m1"), payment("m1", "p1")])
    first = runner.invoke(app, ["ingest", str(path)])
    second = runner.invoke(app, ["ingest", str(path)])
    assert first.exit_code == 0, first.output
    assert "payment_made" in first.output and "1 of 1 file(s) were accepted" in first.output
    assert "│ total           │        0 │          2 │        0 │" in second.output


def test_bad_file_exits_non_zero_with_position(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "e.jsonl", [enrolled("m1"), payment("m1", "p1", amount="lots")])
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2 amount" in result.output
    assert "refused, nothing written from" in result.output


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "e.jsonl", [enrolled("m1")])
    assert (
        "dry run: nothing written" in runner.invoke(app, ["ingest", "--dry-run", str(path)]).output
    )
    assert "no member 'm1'" in runner.invoke(app, ["ledger", "show", "m1"]).output


def test_skip_invalid_imports_valid_lines_and_writes_rejects(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "e.jsonl", [enrolled("m1"), payment("m1", "p1", amount=-1), payment("m1", "p2")]
    )
    rejects = tmp_path / "rejects.jsonl"
    result = runner.invoke(app, ["ingest", str(path), "--skip-invalid", str(rejects)])
    assert result.exit_code == 0, result.output
    (line,) = rejects.read_text().splitlines()
    assert json.loads(line)["line"] == 2
    assert "1 rejected record(s) written to" in result.output


def test_missing_path_and_unsupported_kind(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.jsonl")])
    (tmp_path / "e.xml").write_text("<events/>")
    unsupported = runner.invoke(app, ["ingest", str(tmp_path / "e.xml")])
    assert (missing.exit_code, unsupported.exit_code) == (2, 2)
    assert "no such file or directory" in missing.output
    assert "unsupported file kind '.xml'" in unsupported.output


def test_export_twice_then_show(tmp_path: Path, data_dir: Path) -> None:
    runner.invoke(
        app,
        ["ingest", str(write_jsonl(tmp_path / "e.jsonl", [enrolled("m1"), payment("m1", "p1")]))],
    )
    first = runner.invoke(app, ["export"])
    second = runner.invoke(app, ["export"])
    shown = runner.invoke(app, ["ledger", "show", "m1"])
    assert "exported 2 events" in first.output
    assert "nothing new to export" in second.output
    assert list((data_dir / "lake" / "events").glob("month=*/part-*.parquet"))
    assert (
        "payment_made" in shown.output
        and "partner:shop" in shown.output
        and "file:" in shown.output
    )


def test_demo_refuses_a_city_too_short_to_train_on(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--members", "2000", "--months", "6"])
    assert result.exit_code == 2
    assert "--months" in result.output


def test_demo_names_the_step_that_failed(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openscore.demo import run
    from openscore.demo.pipeline import DemoStepFailed

    def fail(*_args: object, **_kwargs: object) -> None:
        raise DemoStepFailed("train", "too few defaults in the city to train on")

    monkeypatch.setattr(run, "run_demo", fail)
    result = runner.invoke(app, ["demo", "--members", "2000", "--check"])
    assert result.exit_code == 1
    assert "demo failed at step 'train'" in result.output
    assert "too few defaults" in result.output


def test_demo_stops_cleanly_on_ctrl_c(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openscore.demo import run

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "run_demo", interrupted)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 130
    assert "nothing is half-written" in result.output


def test_serve_settles_the_process_before_uvicorn_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import uvicorn

    from openscore.features.online import online_query

    seen: dict[str, object] = {}

    def run(app: object, **options: object) -> None:
        seen.update(app=app, frozen=gc.get_freeze_count(), options=options)
        seen["compiled"] = online_query.cache_info().currsize

    monkeypatch.setattr(uvicorn, "run", run)
    gc.unfreeze()
    try:
        result = runner.invoke(app, ["serve", "--port", "8123"])
    finally:
        gc.unfreeze()  # give the test process its collector back
    assert result.exit_code == 0, result.output
    assert seen["options"] == {"host": "127.0.0.1", "port": 8123, "log_level": "info"}
    # The feature plan and its halves were compiled, and the heap frozen, before the first
    # request.
    assert seen["compiled"] == 3
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 100_000
