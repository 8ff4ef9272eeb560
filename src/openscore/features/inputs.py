"""The tables feature definitions read: events, disputes and scores, with their schemas.

Definitions are written over *unbound* Ibis tables with these names and schemas; each engine
binds the names to its own data (Parquet views in DuckDB, temporary views in Spark, Arrow
tables online). Only the event columns listed here are ever read, so a lake with more columns
(``seq``, ``received_at``, the month partition) or a simulator file without them both work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import ibis
import pyarrow as pa

from openscore.ledger.wide import wide_schema

EVENTS = "events"
DISPUTES = "disputes"
SCORES = "scores"

#: Event columns the definitions read: the envelope, then the fields named by the catalogue's
#: inputs (a test holds the two lists together).
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "type",
    "member_id",
    "occurred_at",
    "source",
    "connections_opt_in",
    "amount",
    "currency",
    "merchant_category",
    "bill_id",
    "due_date",
    "paid_date",
    "loan_id",
    "term",
    "frequency",
    "installment_amount",
    "installment_no",
    "rental_id",
    "deposit_waived",
    "damage",
    "unpaid_amount",
    "polarity",
    "case_id",
    "peer_member_id",
    "group_id",
    "retracted_event_id",
)

DISPUTES_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("opened_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("resolved_at", pa.timestamp("us", tz="UTC")),
    ]
)
SCORES_SCHEMA = pa.schema(
    [
        pa.field("member_id", pa.string(), nullable=False),
        pa.field("as_of", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
    ]
)


@cache
def features_arrow_schema() -> pa.Schema:
    """The Arrow schema of a feature table: ``member_id`` then each feature, all nullable."""
    from openscore.features.catalogue import FEATURES

    kinds = {"int64": pa.int64(), "float64": pa.float64()}
    return pa.schema(
        [pa.field("member_id", pa.string())] + [pa.field(s.name, kinds[s.kind]) for s in FEATURES]
    )


@cache
def events_arrow_schema() -> pa.Schema:
    """The Arrow schema of the event columns the definitions read (types from the ledger)."""
    wide = wide_schema()
    return pa.schema([wide.field(name).with_nullable(True) for name in EVENT_COLUMNS])


def events_table() -> ibis.Table:
    """The unbound ``events`` table."""
    return ibis.table(ibis.Schema.from_pyarrow(events_arrow_schema()), name=EVENTS)


def disputes_table() -> ibis.Table:
    """The unbound ``disputes`` table: (source, event_id) under dispute from opened to resolved."""
    return ibis.table(ibis.Schema.from_pyarrow(DISPUTES_SCHEMA), name=DISPUTES)


def scores_table() -> ibis.Table:
    """The unbound ``scores`` table: members' scores as of past dates (empty until scoring)."""
    return ibis.table(ibis.Schema.from_pyarrow(SCORES_SCHEMA), name=SCORES)


def to_events_arrow(events: pa.Table | Iterable[Mapping[str, Any]]) -> pa.Table:
    """Events (an Arrow table or wide rows) as an Arrow table of exactly the columns read."""
    schema = events_arrow_schema()
    if isinstance(events, pa.Table):
        if events.schema.equals(schema):
            return events
        columns = [
            events.column(f.name).cast(f.type)
            if f.name in events.column_names
            else pa.nulls(events.num_rows, f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(columns, schema=schema)
    rows = events if isinstance(events, list) else list(events)
    # Column by column: a third faster than from_pylist, which matters online.
    columns = [pa.array([row.get(f.name) for row in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def to_arrow(table: pa.Table | Iterable[Mapping[str, Any]] | None, schema: pa.Schema) -> pa.Table:
    """An optional disputes or scores input as an Arrow table of ``schema`` (empty if None)."""
    if table is None:
        return schema.empty_table()
    if isinstance(table, pa.Table):
        return table.select(schema.names).cast(schema)
    return pa.Table.from_pylist(list(table), schema=schema)
