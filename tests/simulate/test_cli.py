"""``openscore simulate`` as a user runs it: files, errors that write nothing, --print-config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from openscore.simulate.cli import simulate_command

app = typer.Typer()
app.command("simulate")(simulate_command)
app.command("noop")(lambda: None)  # a second command keeps "simulate" a subcommand

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["simulate", *args])
    return result.exit_code, result.output


def test_writes_events_truth_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "city"
    code, output = _run("--members", "300", "--months", "3", "--seed", "2", "--out", str(out))
    assert code == 0, output
    assert sorted(p.name for p in (out / "events").iterdir()) == [
        "month=2023-01",
        "month=2023-02",
        "month=2023-03",
    ]
    assert (out / "events" / "month=2023-02" / "part-00000.parquet").is_file()
    assert {p.name for p in (out / "truth").iterdir()} == {"members.parquet", "partners.parquet"}
    assert "| member_enrolled | 300 |" in (out / "summary.md").read_text()
    assert "300 members" in output


def test_jsonl_and_start(tmp_path: Path) -> None:
    out = tmp_path / "city"
    code, output = _run(
        "--members", "100", "--months", "2", "--start", "2024-06-01", "--format", "jsonl",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    assert (out / "events" / "month=2024-07" / "part-00000.jsonl").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--months", "60"], "after today"),
        (["--start", "2023-01-15"], "must be the first day of a month"),
        (["--members", "3"], "city.members: Input should be greater than or equal to 10"),
    ],
)
def test_errors_are_clear_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "city"
    code, output = _run(*args, "--out", str(out))
    assert code == 2
    assert message in " ".join(output.split())
    assert list(tmp_path.iterdir()) == []


def test_bad_config_key_names_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "my.toml"
    config.write_text("[social]\nhomophily = 0.3\n")
    code, output = _run("--config", str(config), "--out", str(tmp_path / "city"))
    assert code == 2
    flat = " ".join(output.split())
    assert "my.toml" in flat and "social.homophily: unknown key" in flat
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my.toml"]


def test_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "city"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, output = _run("--members", "50", "--months", "1", "--out", str(out))
    assert code == 2
    assert "already exists" in output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city"]


def test_print_config_prints_the_effective_configuration(tmp_path: Path) -> None:
    code, output = _run("--print-config", "--members", "777", "--out", str(tmp_path / "x"))
    assert code == 0
    data = tomllib.loads(output)
    assert data["city"]["members"] == 777
    assert data["credit"]["products"][0]["name"] == "personal"
    assert not (tmp_path / "x").exists()
