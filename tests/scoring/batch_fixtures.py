"""Fixtures for the in-engine scoring tests: a small simulated city's lake and features, and
the shared Spark session. Test modules import the fixtures they use by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from openscore.features.engines import DuckDBConfig, FeatureRequest, get_engine
from openscore.scoring.artefact import ScorecardArtefact
from tests.features.conftest import SPARK, spark_session
from tests.scoring.handmade import quantile_artefact

__all__ = ["AS_OF", "SPARK", "city_features", "city_lake", "city_model", "spark_session"]

#: The city runs from 2024-01-01 for 14 months; scored at the end of its last month.
AS_OF = dt.datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def city_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated city of 150 members over 14 months, as a lake (events/month=*/...)."""
    from openscore.simulate.config import load_config
    from openscore.simulate.writer import write_city

    out: Path = tmp_path_factory.mktemp("scoring-city") / "city"
    write_city(load_config(None, members=150, months=14, seed=3, start=dt.date(2024, 1, 1)), out)
    return out


@pytest.fixture(scope="session")
def city_features(city_lake: Path) -> pa.Table:
    """The city's features as of :data:`AS_OF`, computed by the DuckDB feature engine."""
    engine = get_engine("duckdb", DuckDBConfig(threads=1))
    return engine.compute(FeatureRequest(as_of=AS_OF, lake=city_lake))


@pytest.fixture(scope="session")
def city_model(city_features: pa.Table) -> ScorecardArtefact:
    """A scorecard over every catalogue feature with bins at the city's quantiles."""
    return quantile_artefact(city_features)
