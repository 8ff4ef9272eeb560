"""A batch run end to end: Parquet and score records equal the reference; reruns; refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from openscore.cli import app
from openscore.db.tables import ScoreRecord
from openscore.features.catalogue import feature_names
from openscore.features.engines import FeatureRequest, SparkConfig, get_engine
from openscore.scoring.artefact import ScorecardArtefact, save_artefact
from openscore.scoring.batch import BatchError, run_batch, scores_dir
from openscore.scoring.records import ScoreRecords, features_hash
from openscore.scoring.registry import register
from openscore.scoring.scorer import score_features
from tests.scoring.batch_fixtures import (
    AS_OF,
    SPARK,
    city_features,
    city_lake,
    city_model,
    spark_session,
)

__all__ = ["city_features", "city_lake", "city_model", "spark_session"]


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(ScoreRecord)).scalar_one())


def expected_rows(artefact: ScorecardArtefact, features: pa.Table) -> dict[str, dict[str, Any]]:
    """What the reference scorer says of every member, in the score table's shape."""
    rows = {}
    for values in features.to_pylist():
        result = score_features(artefact, values)
        rows[values["member_id"]] = {
            "score": result.score,
            "band": result.band,
            "total": result.total,
            "subscores": result.subscores_dict(),
            "reasons": result.reasons_list(),
            "features_hash": features_hash({n: values[n] for n in feature_names()}),
        }
    return rows


def table_rows(table: pa.Table, dimensions: list[str]) -> dict[str, dict[str, Any]]:
    """The score table in the same shape (reasons as (feature, points below best))."""
    rows = {}
    for row in table.to_pylist():
        rows[row["member_id"]] = {
            "score": row["score"],
            "band": row["band"],
            "total": row["total"],
            "subscores": {
                d: {"points": row[f"{d}_points"], "scale": row[f"{d}_scale"]} for d in dimensions
            },
            "reasons": [
                (row[f"reason_{j}"], row[f"reason_{j}_below"])
                for j in range(1, 5)
                if row[f"reason_{j}"] is not None
            ],
            "features_hash": row["features_hash"],
        }
    return rows


def assert_table_is_the_reference(
    table: pa.Table, artefact: ScorecardArtefact, features: pa.Table
) -> None:
    expected = expected_rows(artefact, features)
    for row in expected.values():
        row["reasons"] = [(r["feature"], r["points_below_best"]) for r in row["reasons"]]
    dimensions = list(next(iter(expected.values()))["subscores"])
    assert table_rows(table, dimensions) == expected
    assert set(table["model_version"].to_pylist()) == {artefact.model_id}


def run(artefact: ScorecardArtefact, store: Engine, lake: Path, data: Path, **more: Any) -> Any:
    return run_batch(artefact, AS_OF, store=store, lake=lake, data_dir=data, **more)


class TestRun:
    def test_writes_the_reference_scores_to_parquet_and_the_store(
        self,
        engine: Engine,
        tmp_path: Path,
        city_lake: Path,
        city_model: ScorecardArtefact,
        city_features: pa.Table,
    ) -> None:
        steps: list[str] = []
        report = run(
            city_model, engine, city_lake, tmp_path, progress=lambda s, *_: steps.append(s)
        )
        members = city_features.num_rows
        assert (report.members, report.recorded, report.unchanged) == (members, members, 0)
        assert report.out == tmp_path / "scores" / "as_of=2025-02-28"
        assert [p.name for p in report.out.iterdir()] == ["part-00000.parquet"]
        assert_table_is_the_reference(pq.read_table(report.out), city_model, city_features)
        assert steps[0] == "valid" and steps[-5:] == ["score", "explain", "record", "write", "done"]

        expected = expected_rows(city_model, city_features)
        with Session(engine) as session:
            records = ScoreRecords(session)
            for member_id in list(expected)[:: max(1, members // 25)]:
                stored = records.latest(member_id)
                assert stored is not None
                want = expected[member_id]
                assert (stored.score, stored.band, stored.as_of) == (
                    want["score"],
                    want["band"],
                    AS_OF,
                )
                assert stored.model_dump(mode="json")["subscores"] == want["subscores"]
                assert [r.model_dump() for r in stored.reasons] == want["reasons"]
                assert stored.features_hash == want["features_hash"]
                assert stored.cause == f"batch:{report.run_id}"
        assert count(engine) == members

    def test_a_rerun_records_nothing_new(
        self, engine: Engine, tmp_path: Path, city_lake: Path, city_model: ScorecardArtefact
    ) -> None:
        first = run(city_model, engine, city_lake, tmp_path)
        second = run(city_model, engine, city_lake, tmp_path)
        assert (second.recorded, second.unchanged) == (0, first.members)
        assert count(engine) == first.members
        assert pq.read_table(second.out).num_rows == first.members
        assert sorted(p.name for p in (tmp_path / "scores").iterdir()) == ["as_of=2025-02-28"]

    def test_another_model_records_every_member_again(
        self, engine: Engine, tmp_path: Path, city_lake: Path, city_model: ScorecardArtefact
    ) -> None:
        first = run(city_model, engine, city_lake, tmp_path)
        other = city_model.model_copy(update={"model_id": "sc-handmade-2"})
        second = run(other, engine, city_lake, tmp_path)
        assert (second.recorded, second.unchanged) == (first.members, 0)
        assert count(engine) == 2 * first.members
        assert set(pq.read_table(second.out)["model_version"].to_pylist()) == {"sc-handmade-2"}

    @pytest.mark.parametrize("engine_name", [SPARK])
    def test_spark_gives_the_reference_scores_of_its_features(
        self,
        engine_name: str,
        sqlite_engine: Engine,
        tmp_path: Path,
        city_lake: Path,
        city_model: ScorecardArtefact,
        spark_session: Any,
    ) -> None:
        options = {"session": spark_session}
        config = SparkConfig(shuffle_partitions=2).model_dump()
        report = run(
            city_model,
            sqlite_engine,
            city_lake,
            tmp_path,
            engine=engine_name,
            engine_config=config,
            engine_options=options,
        )
        features = get_engine("spark", config, **options).compute(
            FeatureRequest(as_of=AS_OF, lake=city_lake)
        )
        assert report.recorded == features.num_rows > 100
        assert_table_is_the_reference(pq.read_table(report.out), city_model, features)


class TestRefusals:
    def test_a_lake_without_events(
        self, sqlite_engine: Engine, tmp_path: Path, city_model: ScorecardArtefact
    ) -> None:
        with pytest.raises(BatchError, match=r"no events/ directory in .*nowhere: is it a lake"):
            run(city_model, sqlite_engine, tmp_path / "nowhere", tmp_path / "data")
        assert not (tmp_path / "data").exists()
        assert count(sqlite_engine) == 0

    def test_a_date_before_any_member(
        self, sqlite_engine: Engine, tmp_path: Path, city_lake: Path, city_model: ScorecardArtefact
    ) -> None:
        early = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        with pytest.raises(BatchError, match="no member has features as of 2020-01-01"):
            run_batch(city_model, early, store=sqlite_engine, lake=city_lake, data_dir=tmp_path)
        assert list((tmp_path / "scores").iterdir()) == []
        assert count(sqlite_engine) == 0

    def test_a_tabular_model(
        self, sqlite_engine: Engine, tmp_path: Path, city_lake: Path, city_model: ScorecardArtefact
    ) -> None:
        tabular = city_model.model_copy(update={"kind": "tabular"})
        with pytest.raises(BatchError, match="is a tabular model"):
            run(tabular, sqlite_engine, city_lake, tmp_path)
        assert not (tmp_path / "scores").exists()


#: A registry id has the shape sc-<UTC time>-<8 hex digits>.
MODEL_ID = "sc-20260101T000000Z-0123abcd"


class TestCommand:
    @pytest.fixture
    def data(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.setenv("OPENSCORE_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.delenv("OPENSCORE_DATABASE_URL", raising=False)
        return tmp_path / "data"

    def invoke(self, *args: str) -> Any:
        return CliRunner().invoke(app, ["score", "--as-of", "2025-02-28", *args])

    def records(self, data: Path) -> int:
        from openscore.db.engine import make_engine

        return count(make_engine(f"sqlite:///{data / 'openscore.db'}"))

    def test_scores_with_the_champion(
        self, data: Path, city_lake: Path, city_model: ScorecardArtefact
    ) -> None:
        champion = city_model.model_copy(update={"model_id": MODEL_ID})
        register(champion, "# card", {"model_id": MODEL_ID}, data / "models")
        result = self.invoke("--lake", str(city_lake))
        assert result.exit_code == 0, result.output
        members = pq.read_table(scores_dir(data, AS_OF)).num_rows
        assert f"scored {members:,} members as of 2025-02-28" in result.output
        assert f"with model {MODEL_ID} on duckdb" in result.output
        assert f"{members:,} new score records, 0 already recorded" in result.output
        rerun = self.invoke("--lake", str(city_lake), "--model", MODEL_ID)
        assert f"0 new score records, {members:,} already recorded" in rerun.output
        assert self.records(data) == members

    def test_scores_with_an_artefact_file(
        self, data: Path, tmp_path: Path, city_lake: Path, city_model: ScorecardArtefact
    ) -> None:
        path = save_artefact(city_model, tmp_path / "model.json")
        result = self.invoke("--lake", str(city_lake), "--model", str(path))
        assert result.exit_code == 0, result.output
        assert "with model sc-handmade-1" in result.output

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ([], "no champion model in"),
            (["--model", MODEL_ID], f"no model '{MODEL_ID}' in"),
            (["--model", "missing.json"], "missing.json: cannot read"),
            (["--engine", "polars"], "unknown engine 'polars'"),
            (["--spark-master", "local[1]"], "--spark-master needs --engine spark"),
        ],
    )
    def test_bad_choices_write_nothing(
        self, data: Path, city_lake: Path, args: list[str], message: str
    ) -> None:
        result = self.invoke("--lake", str(city_lake), *args)
        assert result.exit_code == 2
        assert message in " ".join(result.output.split())
        assert not (data / "scores").exists()

    def test_no_lake_writes_nothing(
        self, data: Path, tmp_path: Path, city_model: ScorecardArtefact
    ) -> None:
        path = save_artefact(city_model, tmp_path / "model.json")
        result = self.invoke("--lake", str(tmp_path / "nowhere"), "--model", str(path))
        assert result.exit_code == 2
        assert "no events/ directory in" in " ".join(result.output.split())
        assert not (data / "scores").exists()
        assert self.records(data) == 0
