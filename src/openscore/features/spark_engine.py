"""The Spark engine: the same stages as cached temporary views, on a local or remote cluster."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pyarrow as pa

from openscore.features.engines import FeatureRequest, Progress, SparkConfig, compiled_stages
from openscore.features.inputs import (
    DISPUTES,
    EVENT_COLUMNS,
    EVENTS,
    SCORES,
    features_arrow_schema,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


def build_session(config: SparkConfig) -> SparkSession:
    """A Spark session in UTC with the UI off; local sessions bind to the loopback address."""
    from pyspark.sql import SparkSession

    if config.master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(config.master)
        .appName(config.app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Dates of instants are taken in UTC on every engine.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(config.shuffle_partitions))
        .config("spark.driver.memory", config.driver_memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Nothing is saved as a table; keep Spark from making spark-warehouse/ in the cwd.
        .config("spark.sql.warehouse.dir", str(Path(tempfile.gettempdir()) / "openscore-spark"))
    )
    for key, value in config.conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkEngine:
    """Runs the feature plan on Spark; each stage is cached, so the event scan happens once."""

    name: ClassVar[str] = "spark"

    def __init__(self, config: SparkConfig | None = None, session: SparkSession | None = None):
        self.config = config or SparkConfig()
        self._owned = session is None
        self._session = session

    @property
    def session(self) -> SparkSession:
        if self._session is None:
            self._session = build_session(self.config)
        return self._session

    def _frame(self, table: pa.Table) -> DataFrame:
        frame: DataFrame = self.session.createDataFrame(
            table.to_pandas(), schema=_spark_schema(table.schema)
        )
        return frame

    def _run_stages(self, request: FeatureRequest, progress: Progress | None) -> list[DataFrame]:
        from pyspark import StorageLevel

        _register_compiler_options()

        spark = self.session
        if request.lake is not None:
            events = spark.read.parquet(request.events_glob()).select(*EVENT_COLUMNS)
        else:
            events = self._frame(request.events_arrow())
        events.createOrReplaceTempView(EVENTS)
        self._frame(request.disputes_arrow()).createOrReplaceTempView(DISPUTES)
        self._frame(request.scores_arrow()).createOrReplaceTempView(SCORES)
        cached: list[DataFrame] = []
        stages = compiled_stages("pyspark", request.as_of)
        for position, (name, sql) in enumerate(stages):
            if progress is not None:
                progress(name, position, len(stages))
            frame = spark.sql(sql).persist(StorageLevel.MEMORY_AND_DISK)
            frame.count()  # materialise now, so later stages read the cache
            frame.createOrReplaceTempView(name)
            cached.append(frame)
        if progress is not None:
            progress("done", len(stages), len(stages))
        return cached

    def compute(self, request: FeatureRequest, progress: Progress | None = None) -> pa.Table:
        """Every member's features, sorted by member."""
        cached = self._run_stages(request, progress)
        try:
            return cached[-1].orderBy("member_id").toArrow().cast(features_arrow_schema())
        finally:
            for frame in cached:
                frame.unpersist()

    def write(self, request: FeatureRequest, out: Path, progress: Progress | None = None) -> int:
        """Write the features as Parquet part files into ``out``; returns the number of members."""
        cached = self._run_stages(request, progress)
        try:
            features = cached[-1]
            features.orderBy("member_id").write.mode("overwrite").parquet(str(out))
            return int(features.count())
        finally:
            for frame in cached:
                frame.unpersist()

    def close(self) -> None:
        """Stop the session if this engine started it."""
        if self._owned and self._session is not None:
            self._session.stop()
            self._session = None


def _register_compiler_options() -> None:
    """Ibis's pyspark SQL compiler reads backend options that exist once a backend connects;
    the plan is compiled without connecting one, so register the defaults here."""
    import ibis
    from ibis.backends.pyspark import Backend

    if ibis.options.pyspark is None:
        ibis.options.pyspark = Backend.Options()


def _spark_schema(schema: pa.Schema) -> StructType:
    """The Spark schema of an Arrow schema (for the small in-memory inputs)."""
    from pyspark.sql import types as T

    kinds = {
        pa.string(): T.StringType(),
        pa.int64(): T.LongType(),
        pa.float64(): T.DoubleType(),
        pa.bool_(): T.BooleanType(),
        pa.date32(): T.DateType(),
        pa.timestamp("us", tz="UTC"): T.TimestampType(),
    }
    return T.StructType([T.StructField(f.name, kinds[f.type], True) for f in schema])
