"""Engines under test, one shared Spark session, and the populations every engine computes."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from openscore.features.catalogue import FEATURES
from openscore.features.engines import DuckDBConfig, FeatureRequest, SparkConfig, get_engine
from openscore.features.inputs import DISPUTES_SCHEMA, SCORES_SCHEMA, to_events_arrow
from openscore.features.online import NETWORK_EVENT_TYPES, OnlineFeatures
from openscore.ledger.sample import sample_events
from tests.features.cases import AS_OF, edge_case_disputes, edge_case_events, edge_case_scores, same

Rows = Sequence[Mapping[str, Any]]
Features = dict[str, dict[str, Any]]
Compute = Callable[..., Features]

SPARK = pytest.param("spark", marks=pytest.mark.xdist_group("spark"))
ENGINES = ["duckdb", SPARK, "online"]


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark (install a JDK 17)"
    return None


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for every Spark test of the worker (two cores, UI off)."""
    if reason := _spark_missing():
        pytest.skip(f"Spark tests skipped: {reason}")
    from openscore.features.spark_engine import build_session

    session = build_session(
        SparkConfig(
            shuffle_partitions=2,
            driver_memory="1g",
            conf={"spark.sql.adaptive.coalescePartitions.enabled": "true"},
        )
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _table(rows: Rows | None, schema: pa.Schema) -> pa.Table | None:
    return None if rows is None else pa.Table.from_pylist(list(rows), schema=schema)


def _as_dict(table: pa.Table) -> Features:
    return {row.pop("member_id"): row for row in table.to_pylist()}


def _online(
    events: pa.Table, as_of: dt.datetime, disputes: pa.Table | None, scores: pa.Table | None
) -> Features:
    network = events.filter(pc.is_in(events["type"], pa.array(sorted(NETWORK_EVENT_TYPES))))
    online = OnlineFeatures()
    result: Features = {}
    try:
        for member in sorted(set(events["member_id"].to_pylist())):
            mine = events.filter(pc.equal(events["member_id"], member))
            others = network.filter(pc.not_equal(network["member_id"], member))
            values = online.compute(
                member, mine, as_of, network=others, disputes=disputes, scores=scores
            )
            # The halves the service runs at once give what the whole plan gives.
            halves = _halves(online, member, mine, as_of, others, disputes, scores)
            assert (halves is None) == (values is None), member
            if values is not None and halves is not None:
                assert all(same(s, values[s.name], halves[s.name]) for s in FEATURES), member
            if values is not None:
                result[member] = values
    finally:
        online.close()
    return result


def _halves(
    online: OnlineFeatures,
    member: str,
    mine: pa.Table,
    as_of: dt.datetime,
    others: pa.Table,
    disputes: pa.Table | None,
    scores: pa.Table | None,
) -> dict[str, object] | None:
    own = online.own(member, mine, as_of, disputes=disputes)
    if own is None:
        return None
    values, opted_in = own
    if opted_in:
        linked = online.connections(
            member, mine, as_of, network=others, disputes=disputes, scores=scores
        )
        values.update(linked)
    return dict(values)


@pytest.fixture(params=ENGINES)
def compute(request: pytest.FixtureRequest) -> Compute:
    """``compute(events, as_of, disputes=None, scores=None)`` on the engine under test."""
    name: str = request.param
    session = request.getfixturevalue("spark_session") if name == "spark" else None

    def run(
        events: Rows | pa.Table,
        as_of: dt.datetime,
        disputes: Rows | None = None,
        scores: Rows | None = None,
    ) -> Features:
        table = events if isinstance(events, pa.Table) else to_events_arrow(events)
        disputes_table = _table(disputes, DISPUTES_SCHEMA)
        scores_table = _table(scores, SCORES_SCHEMA)
        if name == "online":
            return _online(table, as_of, disputes_table, scores_table)
        feature_request = FeatureRequest(
            as_of=as_of, events=table, disputes=disputes_table, scores=scores_table
        )
        if name == "spark":
            engine = get_engine("spark", SparkConfig(shuffle_partitions=2), session=session)
        else:
            engine = get_engine("duckdb", DuckDBConfig(threads=1))
        return _as_dict(engine.compute(feature_request))

    run.engine = name  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="session")
def city_events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A small simulated city (the realistic simulator) ending on the as_of date."""
    from openscore.simulate.config import load_config
    from openscore.simulate.writer import write_city

    out: Path = tmp_path_factory.mktemp("city") / "city"
    config = load_config(None, members=120, months=24, seed=11, start=dt.date(2023, 1, 1))
    write_city(config, out)
    tables = [pq.read_table(path) for path in sorted(out.glob("events/*/*.parquet"))]
    return pa.concat_tables(tables).to_pylist()


@pytest.fixture(scope="session")
def population(city_events: list[dict[str, Any]]) -> dict[str, Any]:
    """Simulated members, sample members and the edge cases, with disputes and scores."""
    events = [
        *city_events,
        *sample_events(40, months=12, seed=5),
        *edge_case_events(),
    ]
    return {
        "events": events,
        "as_of": AS_OF,
        "disputes": edge_case_disputes(),
        "scores": edge_case_scores(),
    }


_RESULTS: dict[str, Features] = {}


@pytest.fixture
def population_features(compute: Compute, population: dict[str, Any]) -> Features:
    """The population's features on the engine under test, computed once per engine."""
    name = compute.engine  # type: ignore[attr-defined]
    if name not in _RESULTS:
        _RESULTS[name] = compute(
            population["events"],
            population["as_of"],
            disputes=population["disputes"],
            scores=population["scores"],
        )
    return _RESULTS[name]
