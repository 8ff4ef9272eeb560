"""The scorecard commands: train and evaluate on CSVs, the registry, bad CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from openscore.cli import app
from openscore.scoring import registry
from tests.scoring.conftest import toy_data

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENSCORE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _csv(path: Path, rows: int = 600, seed: int = 3, labels: bool = False) -> Path:
    frame, bad = toy_data(rows, seed)
    frame["outcome"] = ["bad" if b else "good" for b in bad] if labels else bad
    frame["marital_status"] = "x"
    frame.to_csv(path, index=False)
    return path


def test_train_evaluate_list_promote(data_dir: Path, tmp_path: Path) -> None:
    train = _csv(tmp_path / "train.csv", labels=True)
    first = runner.invoke(app, ["train", "--csv", str(train), "--target", "outcome"])
    assert first.exit_code == 0, first.output
    model_id = first.stdout.strip().splitlines()[-1]
    assert registry.champion_id(data_dir / "models") == model_id
    artefact = registry.load_model(model_id, data_dir / "models")
    assert "marital_status" not in artefact.feature_names()
    assert (data_dir / "models" / f"{model_id}.card.md").read_text().startswith("# Model card")
    second = runner.invoke(
        app, ["train", "--csv", str(_csv(tmp_path / "b.csv", seed=4)), "--target", "outcome"]
    )
    challenger = second.stdout.strip().splitlines()[-1]
    assert registry.champion_id(data_dir / "models") == model_id
    card = registry.load_card(challenger, data_dir / "models")
    assert card["stability"]["champion"] == model_id
    assert card["stability"]["psi"] >= 0
    test = _csv(tmp_path / "test.csv", seed=9)
    evaluated = runner.invoke(app, ["evaluate", "--csv", str(test), "--target", "outcome"])
    assert evaluated.exit_code == 0, evaluated.output
    assert f"model {challenger}" in evaluated.stdout
    assert "AUC 0." in evaluated.stdout and "deciles:" in evaluated.stdout
    promoted = runner.invoke(app, ["models", "promote", challenger])
    assert promoted.exit_code == 0
    assert registry.champion_id(data_dir / "models") == challenger
    listed = runner.invoke(app, ["models", "list"], env={"COLUMNS": "200"})
    assert listed.stdout.count("★") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", r"the file is empty"),
        ("a,b\n1,0\n", r"line 1: no column 'outcome'"),
        ("a,outcome\n1,0\n2,\n", r"line 3, column 'outcome': the target is empty"),
        ("a,outcome\n1,0\n2,1\n3,2\n", r"line 4, column 'outcome': a third target value '2'"),
        ('a,outcome\n1,0\n"2,1\n', r"cannot parse"),
    ],
)
def test_bad_csv_says_where_and_what(
    data_dir: Path, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = runner.invoke(app, ["train", "--csv", str(path), "--target", "outcome"])
    assert result.exit_code == 2
    assert "bad.csv" in result.stderr
    import re

    assert re.search(message, " ".join(result.stderr.split())), result.stderr
    assert not (data_dir / "models").exists() or not list((data_dir / "models").iterdir())


def test_bad_label_must_be_a_target_value(data_dir: Path, tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", labels=True)
    result = runner.invoke(
        app, ["train", "--csv", str(path), "--target", "outcome", "--bad-label", "awful"]
    )
    assert result.exit_code == 2
    assert "--bad-label 'awful' is not one of its values" in " ".join(result.stderr.split())


def test_unknown_model_is_refused(data_dir: Path) -> None:
    result = runner.invoke(app, ["models", "promote", "sc-20200101T000000Z-deadbeef"])
    assert result.exit_code == 2
    assert "no model 'sc-20200101T000000Z-deadbeef'" in " ".join(result.stderr.split())
