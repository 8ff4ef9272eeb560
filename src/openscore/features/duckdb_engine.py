"""The DuckDB engine: the plan's stages as temporary tables, read straight from the Parquet lake."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import duckdb
import pyarrow as pa

from openscore.features.catalogue import typed_columns_sql
from openscore.features.engines import (
    DuckDBConfig,
    FeatureRequest,
    Progress,
    compiled_stages,
)
from openscore.features.inputs import (
    DISPUTES,
    EVENT_COLUMNS,
    EVENTS,
    SCORES,
    features_arrow_schema,
)

_RESULT = f"SELECT {typed_columns_sql()} FROM features ORDER BY member_id"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine:
    """Runs the feature plan in an embedded DuckDB database kept in a scratch directory.

    The database lives in a file rather than in memory so that DuckDB compresses the event
    stage and spills to disk under its memory limit instead of holding a million members'
    events uncompressed.
    """

    name: ClassVar[str] = "duckdb"

    def __init__(self, config: DuckDBConfig | None = None) -> None:
        self.config = config or DuckDBConfig()

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        scratch = Path(
            tempfile.mkdtemp(prefix="openscore-features-", dir=self.config.temp_directory)
        )
        connection = duckdb.connect(str(scratch / "features.duckdb"))
        try:
            # Dates of instants are taken in UTC on every engine.
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute(f"SET temp_directory = {_quote(str(scratch / 'spill'))}")
            if self.config.threads is not None:
                connection.execute(f"SET threads = {self.config.threads}")
            if self.config.memory_limit is not None:
                connection.execute(f"SET memory_limit = {_quote(self.config.memory_limit)}")
            yield connection
        finally:
            connection.close()
            shutil.rmtree(scratch, ignore_errors=True)

    def _run_stages(
        self,
        connection: duckdb.DuckDBPyConnection,
        request: FeatureRequest,
        progress: Progress | None,
    ) -> None:
        if request.lake is not None:
            columns = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
            connection.execute(
                f"CREATE VIEW {EVENTS} AS SELECT {columns} FROM read_parquet("
                f"{_quote(request.events_glob())}, hive_partitioning = false, union_by_name = true)"
            )
        else:
            connection.register(EVENTS, request.events_arrow())
        connection.register(DISPUTES, request.disputes_arrow())
        connection.register(SCORES, request.scores_arrow())
        stages = compiled_stages("duckdb", request.as_of)
        for position, (name, sql) in enumerate(stages):
            if progress is not None:
                progress(name, position, len(stages))
            connection.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
        if progress is not None:
            progress("done", len(stages), len(stages))

    def compute(self, request: FeatureRequest, progress: Progress | None = None) -> pa.Table:
        """Every member's features, sorted by member."""
        with self._connection() as connection:
            self._run_stages(connection, request, progress)
            table = connection.sql(_RESULT).to_arrow_table()
            return table.cast(features_arrow_schema())

    def write(self, request: FeatureRequest, out: Path, progress: Progress | None = None) -> int:
        """Write the features to ``out/part-00000.parquet``; returns the number of members."""
        out.mkdir(parents=True, exist_ok=True)
        target = out / "part-00000.parquet"
        with self._connection() as connection:
            self._run_stages(connection, request, progress)
            connection.execute(
                f"COPY ({_RESULT}) TO {_quote(str(target))} (FORMAT parquet, COMPRESSION zstd)"
            )
            (rows,) = connection.execute("SELECT count(*) FROM features").fetchone() or (0,)
        return int(rows)

    def close(self) -> None:
        """Nothing is held between calls."""
