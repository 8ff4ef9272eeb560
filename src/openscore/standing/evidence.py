"""The evidence behind a feature for one member, online: the explain trail, compiled once.

The same conditions as ``openscore.features.explain`` (the events each feature could see as
of ``as_of``, after retractions and disputes), compiled per feature to DuckDB SQL once per
process with ``as_of`` read from a one-row table, then run on the member's events in memory.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import duckdb
import ibis
import pyarrow as pa

from openscore.db.types import from_micros
from openscore.features.definitions import valid_events
from openscore.features.explain import EVIDENCE, EVIDENCE_COLUMNS
from openscore.features.inputs import (
    DISPUTES,
    DISPUTES_SCHEMA,
    EVENTS,
    disputes_table,
    events_arrow_schema,
    events_table,
)
from openscore.features.online import disable_optimizers
from openscore.features.plan import AS_OF

_PARAMS = "evidence_params"
_VALID = "evidence_valid"
# A stand-in instant no real as_of uses; its SQL literal becomes a read of the params table.
_SENTINEL = dt.datetime(2199, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
_SENTINEL_SQL = "MAKE_TIMESTAMPTZ(2199, 1, 2, 3, 4, 5.678901, 'UTC')"

#: The most evidence rows kept per reason in a score record (newest first).
MAX_EVIDENCE = 20


def _with_as_of_read(sql: str) -> str:
    if _SENTINEL_SQL not in sql:
        raise RuntimeError("as_of literal not found in the compiled evidence query")
    return sql.replace(_SENTINEL_SQL, f'(SELECT "as_of" FROM "{_PARAMS}")')


def _valid() -> ibis.Table:
    return valid_events(events_table(), disputes_table(), with_event_id=True)


@cache
def valid_query() -> str:
    """The DuckDB SQL of the events that may count as of ``as_of``, with their ids."""
    params = {AS_OF: _SENTINEL}
    return _with_as_of_read(
        str(ibis.to_sql(_valid(), dialect="duckdb", pretty=False, params=params))
    )


@cache
def evidence_query(feature: str) -> str:
    """The DuckDB SQL of one feature's evidence, over the table :func:`valid_query` fills."""
    valid = ibis.table(_valid().schema(), name=_VALID)
    chosen = valid.filter(EVIDENCE[feature](valid)).select(*EVIDENCE_COLUMNS)
    chosen = chosen.order_by(ibis.desc("occurred_at"), "source", "event_id").limit(MAX_EVIDENCE)
    sql = str(ibis.to_sql(chosen, dialect="duckdb", pretty=False, params={AS_OF: _SENTINEL}))
    if _SENTINEL_SQL in sql:
        sql = _with_as_of_read(sql)
    # Instants leave as integer microseconds: DuckDB hands aware datetimes over through pytz.
    return f'SELECT epoch_us("occurred_at"), "type", "source", "event_id" FROM ({sql}) AS trail'


class EvidenceFinder:
    """Finds evidence rows for a few features of one member; used by one thread at a time.

    As in ``OnlineFeatures``, the input tables are real tables refilled inside a transaction
    that is always rolled back, and every feature's query is prepared once against them.
    """

    def __init__(self) -> None:
        self._connection = duckdb.connect(config={"threads": 1})
        connection = self._connection
        connection.execute("SET TimeZone = 'UTC'")
        disable_optimizers(connection)
        connection.from_arrow(events_arrow_schema().empty_table()).create(EVENTS)
        connection.from_arrow(DISPUTES_SCHEMA.empty_table()).create(DISPUTES)
        connection.execute(f'CREATE TABLE "{_PARAMS}" (as_of TIMESTAMPTZ)')
        # The valid events are found once a call, into a table every feature's query reads:
        # each feature's query then takes about 0.2 ms instead of finding them again.
        connection.execute(f'CREATE TABLE "{_VALID}" AS SELECT * FROM ({valid_query()}) LIMIT 0')
        connection.execute(f'PREPARE evidence_valid AS INSERT INTO "{_VALID}" {valid_query()}')
        self._prepared = {name: f"evidence_{i}" for i, name in enumerate(EVIDENCE)}
        for name, statement in self._prepared.items():
            connection.execute(f"PREPARE {statement} AS {evidence_query(name)}")

    def find(
        self, events: pa.Table, as_of: dt.datetime, features: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The evidence rows of each of ``features`` (``prepare``, ``trails``, ``release``)."""
        if not features:
            return {}
        self.prepare(events, as_of)
        try:
            return self.trails(features)
        finally:
            self.release()

    def prepare(self, events: pa.Table, as_of: dt.datetime) -> None:
        """Find the member's valid events, in a transaction ``release`` ends: the part of
        the work that needs no feature named (a caller can run it while it scores)."""
        connection = self._connection
        connection.execute("BEGIN TRANSACTION")
        try:
            if events.num_rows:
                connection.from_arrow(events).insert_into(EVENTS)
            connection.execute(f'INSERT INTO "{_PARAMS}" VALUES (?)', [as_of])
            connection.execute("EXECUTE evidence_valid")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def trails(self, features: list[str]) -> dict[str, list[dict[str, Any]]]:
        """After ``prepare``: each feature's evidence rows."""
        found: dict[str, list[dict[str, Any]]] = {}
        for name in features:
            statement = self._prepared.get(name)
            rows = self._connection.execute(f"EXECUTE {statement}").fetchall() if statement else []
            found[name] = [_row(row) for row in rows]
        return found

    def release(self) -> None:
        """End what ``prepare`` began (nothing is kept)."""
        self._connection.execute("ROLLBACK")

    def close(self) -> None:
        self._connection.close()


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip(EVIDENCE_COLUMNS, row, strict=True))
    occurred = from_micros(int(record["occurred_at"]))
    record["occurred_at"] = occurred.isoformat().replace("+00:00", "Z")
    return record
