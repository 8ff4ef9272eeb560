"""``openscore features``: compute (the default action), list and explain."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from openscore.features.catalogue import FEATURES
from openscore.features.cli import features_app, parse_as_of
from openscore.features.engines import FeatureRequest, get_engine
from openscore.ledger.sample import sample_events
from openscore.ledger.writers import write_events
from tests.features.cases import AS_OF

app = typer.Typer()
app.add_typer(features_app, name="features")


@app.command()
def other() -> None:
    """A second command, so that ``features`` is a sub-command as in the real app."""


runner = CliRunner()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-lake")
    write_events(sample_events(12, months=12, seed=4), root / "events" / "month=2024" / "a.parquet")
    return root


def test_list_prints_the_catalogue() -> None:
    result = runner.invoke(app, ["features", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert all(spec.name in result.output for spec in FEATURES)
    assert f"{len(FEATURES)} features" in result.output


def test_compute_writes_the_features(lake: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["features", "--as-of", "2024-12-31", "--lake", str(lake)],
        env={"OPENSCORE_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    written = pq.read_table(tmp_path / "features" / "as_of=2024-12-31")
    expected = get_engine("duckdb").compute(FeatureRequest(as_of=AS_OF, lake=lake))
    assert written.cast(expected.schema).equals(expected)
    assert "12 members' features" in result.output


def test_explain_prints_values_sentences_and_evidence(lake: Path) -> None:
    result = runner.invoke(
        app,
        ["features", "explain", "m00000003", "--as-of", "2024-12-31", "--lake", str(lake)],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 0, result.output
    assert "m00000003" in result.output
    assert FEATURES[0].description in result.output
    assert "income_received" in result.output


def test_explain_refuses_a_non_member(lake: Path) -> None:
    result = runner.invoke(
        app, ["features", "explain", "nobody", "--as-of", "2024-12-31", "--lake", str(lake)]
    )
    assert result.exit_code == 1
    assert "nobody is not a member" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["features"], "--as-of is required"),
        (["features", "--as-of", "last tuesday"], "neither YYYY-MM-DD nor an ISO instant"),
        (["features", "--as-of", "2024-01-01T10:00"], "needs a UTC offset"),
        (["features", "--as-of", "2024-01-01", "--engine", "polars"], "unknown engine"),
        (["features", "--as-of", "2024-01-01", "--spark-master", "x"], "needs --engine spark"),
    ],
)
def test_bad_arguments(args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert message in result.output


def test_a_date_is_the_end_of_that_day() -> None:
    assert parse_as_of("2024-12-31") == AS_OF
    assert parse_as_of("2024-12-31T23:59:59.999999+00:00") == AS_OF
