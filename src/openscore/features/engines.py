"""Engines that run the feature plan: a registry of short names, imported only when asked for.

``duckdb`` (embedded, the default) and ``spark`` (when the lake outgrows one machine) both
take the same :class:`FeatureRequest`, compile the same plan to their SQL dialect and return
or write the same feature table. Using DuckDB never imports pyspark: the registry holds module
paths, not classes, and a test checks it in a fresh interpreter.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import ibis
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from openscore.features.definitions import build_plan
from openscore.features.inputs import DISPUTES_SCHEMA, SCORES_SCHEMA, to_arrow, to_events_arrow
from openscore.features.plan import (
    AS_OF,
    Plan,
    check_as_of,
    compile_stages,
    join_parts,
)

#: Told the name of each stage as it starts, with its position and the number of stages.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FeatureRequest:
    """What to compute: events (a lake directory or an Arrow table) as of an instant.

    ``lake`` is a directory with ``events/month=YYYY-MM/*.parquet`` (``openscore export`` or
    ``openscore simulate`` output). ``disputes`` and ``scores`` are optional tables with
    :data:`~openscore.features.inputs.DISPUTES_SCHEMA` and ``SCORES_SCHEMA``.
    """

    as_of: dt.datetime
    lake: Path | None = None
    events: pa.Table | None = None
    disputes: pa.Table | None = None
    scores: pa.Table | None = None

    def __post_init__(self) -> None:
        if (self.lake is None) == (self.events is None):
            raise ValueError("give either a lake directory or an events table, not both")
        object.__setattr__(self, "as_of", check_as_of(self.as_of))

    def events_glob(self) -> str:
        """The lake's event files, as a glob both DuckDB and Spark read."""
        assert self.lake is not None
        events = self.lake / "events"
        if not events.is_dir():
            raise FileNotFoundError(f"no events/ directory in {self.lake}: is it a lake?")
        return str(events / "*" / "*.parquet")

    def events_arrow(self) -> pa.Table:
        assert self.events is not None
        return to_events_arrow(self.events)

    def disputes_arrow(self) -> pa.Table:
        return to_arrow(self.disputes, DISPUTES_SCHEMA)

    def scores_arrow(self) -> pa.Table:
        return to_arrow(self.scores, SCORES_SCHEMA)


@runtime_checkable
class FeatureEngine(Protocol):
    """What every engine offers."""

    name: ClassVar[str]

    def compute(self, request: FeatureRequest, progress: Progress | None = None) -> pa.Table:
        """Every member's features as an Arrow table sorted by ``member_id``."""
        ...

    def write(self, request: FeatureRequest, out: Path, progress: Progress | None = None) -> int:
        """Write every member's features as Parquet files into ``out``; returns the rows."""
        ...

    def close(self) -> None:
        """Release what the engine holds (connections, sessions it started)."""
        ...


class DuckDBConfig(BaseModel):
    """DuckDB settings; ``None`` keeps DuckDB's own default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = Field(default=None, description="e.g. '8GB'")
    temp_directory: Path | None = None


class SparkConfig(BaseModel):
    """Spark settings; the defaults run locally on two cores with the UI off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    master: str = "local[2]"
    app_name: str = "openscore-features"
    shuffle_partitions: int = Field(default=8, ge=1)
    driver_memory: str = "4g"
    conf: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class EngineEntry:
    """Where an engine lives and how it is configured."""

    target: str
    config: type[BaseModel]


ENGINES: dict[str, EngineEntry] = {
    "duckdb": EngineEntry("openscore.features.duckdb_engine:DuckDBEngine", DuckDBConfig),
    "spark": EngineEntry("openscore.features.spark_engine:SparkEngine", SparkConfig),
}


class UnknownEngineError(KeyError):
    """No engine of that name."""


def engine_class(name: str) -> type[FeatureEngine]:
    """The engine class registered as ``name``, imported now (and checked against the protocol)."""
    try:
        entry = ENGINES[name]
    except KeyError:
        raise UnknownEngineError(
            f"unknown engine {name!r}; choose one of {', '.join(sorted(ENGINES))}"
        ) from None
    module_name, _, attribute = entry.target.partition(":")
    cls = getattr(importlib.import_module(module_name), attribute)
    for member in ("name", "compute", "write", "close"):
        if not hasattr(cls, member):
            raise TypeError(f"{entry.target} is not a FeatureEngine: it has no {member!r}")
    return cls  # type: ignore[no-any-return]


def get_engine(
    name: str, config: Mapping[str, Any] | BaseModel | None = None, **kwargs: Any
) -> FeatureEngine:
    """An engine by name, its configuration validated (unknown settings are errors)."""
    cls = engine_class(name)
    entry = ENGINES[name]
    if isinstance(config, BaseModel) and not isinstance(config, entry.config):
        raise TypeError(f"engine {name!r} takes a {entry.config.__name__}, not {config!r}")
    settings = (
        config if isinstance(config, BaseModel) else entry.config.model_validate(config or {})
    )
    return cls(settings, **kwargs)  # type: ignore[call-arg]


@cache
def feature_plan() -> Plan:
    """The batch engines' plan, built once per process."""
    return build_plan(join_parts)


def compiled_stages(dialect: str, as_of: dt.datetime) -> list[tuple[str, str]]:
    """Every stage of the plan as SQL in ``dialect``, with ``as_of`` bound."""
    params = {AS_OF: check_as_of(as_of)}
    return compile_stages(
        feature_plan(),
        lambda expr: str(ibis.to_sql(expr, dialect=dialect, pretty=False, params=params)),
    )
