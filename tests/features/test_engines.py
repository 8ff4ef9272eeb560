"""The engine registry, its configurations, lazy imports, and reading a real lake."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from openscore.features.engines import (
    ENGINES,
    DuckDBConfig,
    FeatureEngine,
    FeatureRequest,
    SparkConfig,
    UnknownEngineError,
    engine_class,
    get_engine,
)
from openscore.features.inputs import features_arrow_schema
from openscore.ledger.sample import sample_events
from openscore.ledger.writers import write_events
from tests.features.cases import AS_OF
from tests.features.conftest import SPARK

LAZY_CHECK = """
import datetime as dt, sys
from pathlib import Path
from openscore.features.engines import FeatureRequest, get_engine
from openscore.features.online import compute_member
from openscore.ledger.sample import sample_events
as_of = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)
rows = list(sample_events(3, months=6))
table = get_engine("duckdb").compute(FeatureRequest(as_of=as_of, lake=Path(sys.argv[1])))
compute_member("m00000001", [r for r in rows if r["member_id"] == "m00000001"], as_of)
assert table.num_rows == 30, table.num_rows
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pyspark", "py4j")))
"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake as ``openscore export`` lays it out: month partitions of wide Parquet files."""
    root = tmp_path_factory.mktemp("lake")
    rows = list(sample_events(30, months=12, seed=2))
    for month in sorted({row["occurred_at"].strftime("%Y-%m") for row in rows}):
        part = [r for r in rows if r["occurred_at"].strftime("%Y-%m") == month]
        write_events(part, root / "events" / f"month={month}" / "part-000.parquet")
    return root


class TestRegistry:
    def test_registered_names(self) -> None:
        assert sorted(ENGINES) == ["duckdb", "spark"]

    def test_duckdb_engine_satisfies_the_protocol(self) -> None:
        assert isinstance(get_engine("duckdb"), FeatureEngine)
        assert engine_class("duckdb").name == "duckdb"

    def test_unknown_engine(self) -> None:
        with pytest.raises(UnknownEngineError, match="unknown engine 'polars'; choose one of"):
            get_engine("polars")

    @pytest.mark.parametrize(
        ("name", "config", "field"),
        [("duckdb", {"thread": 2}, "thread"), ("spark", {"masterr": "local[1]"}, "masterr")],
    )
    def test_unknown_settings_are_errors(
        self, name: str, config: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(ValidationError, match=field):
            get_engine(name, config)

    def test_a_config_of_another_engine_is_refused(self) -> None:
        with pytest.raises(TypeError, match="takes a DuckDBConfig"):
            get_engine("duckdb", SparkConfig())

    def test_configs_forbid_extra_fields(self) -> None:
        assert DuckDBConfig.model_config.get("extra") == "forbid"
        assert SparkConfig.model_config.get("extra") == "forbid"

    def test_request_needs_exactly_one_source(self, lake: Path) -> None:
        with pytest.raises(ValueError, match="either a lake directory or an events table"):
            FeatureRequest(as_of=AS_OF)
        with pytest.raises(ValueError, match="needs a time zone"):
            FeatureRequest(as_of=dt.datetime(2024, 1, 1), lake=lake)


def test_duckdb_never_imports_pyspark(lake: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LAZY_CHECK, str(lake)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


class TestLake:
    def test_duckdb_reads_the_lake_like_the_table(self, lake: Path, tmp_path: Path) -> None:
        engine = get_engine("duckdb")
        from_lake = engine.compute(FeatureRequest(as_of=AS_OF, lake=lake))
        rows = pa.concat_tables(pq.read_table(p) for p in sorted(lake.glob("events/*/*.parquet")))
        from_table = engine.compute(FeatureRequest(as_of=AS_OF, events=rows))
        assert from_lake.equals(from_table)
        assert from_lake.schema == features_arrow_schema()
        assert from_lake.num_rows == 30
        written = engine.write(FeatureRequest(as_of=AS_OF, lake=lake), tmp_path / "out")
        assert written == 30
        assert pq.read_table(tmp_path / "out").equals(from_lake)

    def test_a_directory_without_events_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="no events/ directory"):
            get_engine("duckdb").compute(FeatureRequest(as_of=AS_OF, lake=tmp_path))

    @pytest.mark.parametrize("name", [SPARK])
    def test_spark_writes_what_duckdb_writes(
        self, name: str, lake: Path, tmp_path: Path, spark_session: Any
    ) -> None:
        spark = get_engine(name, SparkConfig(shuffle_partitions=2), session=spark_session)
        written = spark.write(FeatureRequest(as_of=AS_OF, lake=lake), tmp_path / "spark")
        expected = get_engine("duckdb").compute(FeatureRequest(as_of=AS_OF, lake=lake))
        got = pq.read_table(tmp_path / "spark").sort_by("member_id").cast(expected.schema)
        assert written == 30
        assert got.to_pylist() == expected.to_pylist()
