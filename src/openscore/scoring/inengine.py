"""Run the compiled scorecard where the features are: in DuckDB or in Spark.

Both runners take a feature table (an Arrow table, or a directory of Parquet files as the
feature engines write them), run the one SQL query :func:`~openscore.scoring.compile.scoring_sql`
compiles for their dialect, and return the scored rows as Arrow sorted by ``member_id``, with
the points, total and score as ``int64`` (engines pick their own integer widths for sums of
small literals).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.compile import SCORE, TOTAL, Search, points_column, scoring_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The name the feature table goes by in the compiled query.
FEATURES = "features"

Features: TypeAlias = "pa.Table | Path"


def _schema(features: Features) -> pa.Schema:
    if isinstance(features, pa.Table):
        return features.schema
    files = parquet_files(features)
    return pq.read_schema(files[0])


def parquet_files(directory: Path) -> list[Path]:
    """The Parquet files of a feature table directory (an error if there are none)."""
    files = sorted(directory.glob("*.parquet")) if directory.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no feature table (*.parquet) in {directory}")
    return files


def _query(
    artefact: ScorecardArtefact, features: Features, dialect: str, keep: Any, search: Search
) -> str:
    schema = ibis.Schema.from_pyarrow(_schema(features))
    return f"{scoring_sql(artefact, schema, dialect, FEATURES, keep, search)} ORDER BY member_id"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _integers(artefact: ScorecardArtefact, table: pa.Table) -> pa.Table:
    for name in (*(points_column(n) for n in artefact.feature_names()), TOTAL, SCORE):
        position = table.schema.get_field_index(name)
        table = table.set_column(position, name, table[name].cast(pa.int64()))
    return table


def score_on_duckdb(
    artefact: ScorecardArtefact,
    features: Features,
    *,
    keep: Sequence[str] | None = None,
    threads: int | None = None,
    search: Search = "binary",
) -> pa.Table:
    """Score a feature table in an in-memory DuckDB database."""
    sql = _query(artefact, features, "duckdb", keep, search)
    connection = duckdb.connect()
    try:
        if threads is not None:
            connection.execute(f"SET threads = {int(threads)}")
        if isinstance(features, pa.Table):
            connection.register(FEATURES, features)
        else:
            files = ", ".join(_quote(str(path)) for path in parquet_files(features))
            connection.execute(f"CREATE VIEW {FEATURES} AS SELECT * FROM read_parquet([{files}])")
        return _integers(artefact, connection.sql(sql).to_arrow_table())
    finally:
        connection.close()


def score_on_spark(
    artefact: ScorecardArtefact,
    features: Features,
    session: SparkSession,
    *,
    keep: Sequence[str] | None = None,
    search: Search = "binary",
) -> pa.Table:
    """Score a feature table on Spark (the session's cluster)."""
    # Ibis's pyspark compiler reads backend options that only exist once a backend connects.
    from openscore.features.spark_engine import _register_compiler_options

    _register_compiler_options()
    sql = _query(artefact, features, "pyspark", keep, search)
    if isinstance(features, pa.Table):
        frame = session.createDataFrame(features)
    else:
        frame = session.read.parquet(*(str(p) for p in parquet_files(features)))
    frame.createOrReplaceTempView(FEATURES)
    try:
        return _integers(artefact, session.sql(sql).toArrow())
    finally:
        session.catalog.dropTempView(FEATURES)
