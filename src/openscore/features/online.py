"""One member's features from that member's events in memory: what the service calls after an event.

The same definitions as the batch engines, compiled once per process to DuckDB queries in
which ``as_of`` is a parameter, run on Arrow tables registered in an in-memory DuckDB
connection. Compiling the Ibis expressions costs far more than running them on a few hundred
events, so it happens once (``online_query``); each call only binds tables and executes.

The plan runs in two halves (``definitions.own_plan`` and ``connections_plan``): every
feature but the connections dimension's reads only the member's own events, and a member who
did not opt in to connections needs nothing more. For one who did, the connections half needs
more than the member's own events: pass ``network``, the events of the member's neighbourhood
(see :data:`NETWORK_EVENT_TYPES`), and the results equal the batch engines' for the member.
Without it the connections features describe an empty network. ``compute`` runs the whole
plan as one query; the halves are separate calls (:meth:`OnlineFeatures.own`,
:meth:`OnlineFeatures.connections`) so that a caller can run the first while it reads the
network for the second, and skip the second for a member who did not opt in.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Literal, TypeAlias

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc

from openscore.features.catalogue import feature_names, typed_columns_sql
from openscore.features.definitions import (
    CONNECTIONS_FEATURES,
    build_plan,
    connections_plan,
    own_plan,
)
from openscore.features.inputs import (
    DISPUTES,
    DISPUTES_SCHEMA,
    EVENTS,
    SCORES,
    SCORES_SCHEMA,
    events_arrow_schema,
    to_arrow,
    to_events_arrow,
)
from openscore.features.plan import (
    AS_OF,
    as_one_query,
    check_as_of,
    compile_stages,
    stack_parts,
)

#: The event types of *other* members that connections features read. For results equal to
#: the batch engines', ``network`` holds these events of every member within
#: ``rules.PAGERANK_STEPS`` ties of the member and of every member of the member's groups.
NETWORK_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "member_enrolled",
        "member_left",
        "identity_verified",
        "loan_defaulted",
        "connection_made",
        "connection_removed",
        "group_joined",
        "group_left",
        "event_retracted",
    }
)

# A stand-in instant no real as_of uses; its literal in the compiled SQL becomes a parameter.
_SENTINEL = dt.datetime(2199, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
_SENTINEL_SQL = "MAKE_TIMESTAMPTZ(2199, 1, 2, 3, 4, 5.678901, 'UTC')"

Values = dict[str, int | float | None]

#: Input rows: an Arrow table, or mappings by column.
Rows: TypeAlias = pa.Table | Iterable[Mapping[str, Any]]


_PARAMS = "online_params"

#: DuckDB optimizers that rewrite a plan from the statistics of the rows it will read (value
#: ranges, emptiness, row groups). A prepared plan is not re-planned when rows change, so
#: with any of these on, a plan prepared over empty tables answers "no member" forever.
DATA_DEPENDENT_OPTIMIZERS = (
    "statistics_propagation",
    "empty_result_pullup",
    "compressed_materialization",
    "row_group_pruner",
    "late_materialization",
    "regex_range",
)

#: With statistics off every cardinality estimate is zero, and this optimizer then chooses
#: which side of each hash join to build blindly: for a member with a neighbourhood it built
#: the disputes anti-join's table on 9,600 events rather than on the (usually empty)
#: disputes, 5 ms of a 48 ms call. Off, DuckDB builds the right side as written, which the
#: definitions keep the smaller (the records set aside, the members looked up).
BLIND_OPTIMIZERS = ("build_side_probe_side",)


def disable_optimizers(connection: duckdb.DuckDBPyConnection) -> None:
    """Settle a connection for plans prepared once and run on changing rows."""
    names = ",".join(DATA_DEPENDENT_OPTIMIZERS + BLIND_OPTIMIZERS)
    connection.execute(f"SET disabled_optimizers = '{names}'")


#: The whole online plan, and its two halves.
Part = Literal["whole", "own", "connections"]


@cache
def online_query(part: Part) -> str:
    """The plan or a half of it as one DuckDB query reading ``as_of`` and the member from a
    table.

    ``as_of`` comes from a one-row table rather than a statement parameter: DuckDB re-plans
    a prepared statement whose parameters or tables change, and planning this query costs
    several times more than running it on a few hundred events. With tables whose rows
    change but whose definitions do not, the prepared plan is reused call after call.

    The ``own`` half returns every feature (the connections dimension's empty) and
    ``opted_in``; the ``connections`` half that dimension's features; ``whole`` every feature.
    """
    params = {AS_OF: _SENTINEL}
    if part == "whole":
        plan, columns = build_plan(stack_parts), typed_columns_sql()
    elif part == "own":
        plan, columns = own_plan(stack_parts), f'{typed_columns_sql()}, "opted_in"'
    else:
        plan, columns = connections_plan(stack_parts), typed_columns_sql(CONNECTIONS_FEATURES)
    stages = compile_stages(
        plan, lambda expr: str(ibis.to_sql(expr, dialect="duckdb", pretty=False, params=params))
    )
    query = f"SELECT {columns} FROM ({as_one_query(stages)}) AS features"
    query += f' WHERE member_id = (SELECT "member_id" FROM "{_PARAMS}")'
    if _SENTINEL_SQL not in query:
        raise RuntimeError("as_of literal not found in the compiled query: has Ibis changed?")
    return query.replace(_SENTINEL_SQL, f'(SELECT "as_of" FROM "{_PARAMS}")')


class OnlineFeatures:
    """Computes one member's features in memory; one instance per thread (not shared).

    The instance keeps an in-memory DuckDB database whose input tables are emptied and
    refilled on each call, and both halves of the plan prepared once against them.
    """

    def __init__(self) -> None:
        self._connection = duckdb.connect(config={"threads": 1})
        self._thread = threading.get_ident()
        connection = self._connection
        connection.execute("SET TimeZone = 'UTC'")
        # The plan is prepared once and reused while the tables' rows change, so no
        # optimizer may specialise it to the rows present when it was prepared.
        disable_optimizers(connection)
        for name, schema in (
            (EVENTS, events_arrow_schema()),
            (DISPUTES, DISPUTES_SCHEMA),
            (SCORES, SCORES_SCHEMA),
        ):
            connection.from_arrow(schema.empty_table()).create(name)
        connection.execute(f'CREATE TABLE "{_PARAMS}" (as_of TIMESTAMPTZ, member_id VARCHAR)')
        for part in ("whole", "own", "connections"):
            connection.execute(f"PREPARE {part} AS {online_query(part)}")

    def compute(
        self,
        member_id: str,
        events: Rows,
        as_of: dt.datetime,
        *,
        network: Rows | None = None,
        disputes: Rows | None = None,
        scores: Rows | None = None,
    ) -> Values | None:
        """The member's features as of ``as_of``; None if not a member then.

        The whole plan in one query: in one thread, cheaper than the halves one after the
        other for a member who opted in (one query's fixed cost instead of two).
        """
        table = _with_network(to_events_arrow(events), network)
        row = self._run("whole", member_id, table, as_of, disputes, scores)
        return None if row is None else dict(zip(feature_names(), row[1:], strict=True))

    def own(
        self,
        member_id: str,
        events: Rows,
        as_of: dt.datetime,
        *,
        disputes: Rows | None = None,
    ) -> tuple[Values, bool] | None:
        """Every feature but the connections dimension's (empty), and whether the member
        opted in to that dimension; None if not a member as of ``as_of``."""
        row = self._run("own", member_id, to_events_arrow(events), as_of, disputes, None)
        if row is None:
            return None
        *values, opted_in = row[1:]
        return dict(zip(feature_names(), values, strict=True)), bool(opted_in)

    def connections(
        self,
        member_id: str,
        events: Rows,
        as_of: dt.datetime,
        *,
        network: Rows | None = None,
        disputes: Rows | None = None,
        scores: Rows | None = None,
    ) -> Values:
        """The connections dimension's features (empty if the member did not opt in)."""
        # Of the member's own events this half reads what it reads of anyone's.
        own = to_events_arrow(events)
        own = own.filter(pc.is_in(own.column("type"), value_set=_NETWORK_TYPES))
        table = _with_network(own, network)
        row = self._run("connections", member_id, table, as_of, disputes, scores)
        if row is None:
            return dict.fromkeys(CONNECTIONS_FEATURES)
        return dict(zip(CONNECTIONS_FEATURES, row[1:], strict=True))

    def _run(
        self,
        part: Part,
        member_id: str,
        events: pa.Table,
        as_of: dt.datetime,
        disputes: Rows | None,
        scores: Rows | None,
    ) -> tuple[Any, ...] | None:
        if threading.get_ident() != self._thread:
            raise RuntimeError("an OnlineFeatures instance belongs to the thread that made it")
        as_of = check_as_of(as_of)
        inputs = {
            EVENTS: events,
            DISPUTES: to_arrow(disputes, DISPUTES_SCHEMA),
            SCORES: to_arrow(scores, SCORES_SCHEMA),
        }
        connection = self._connection
        # Rows go in inside a transaction that is always rolled back, so every call starts
        # from empty tables without deleting anything.
        connection.execute("BEGIN TRANSACTION")
        try:
            for name, rows in inputs.items():
                if rows.num_rows:
                    connection.from_arrow(rows).insert_into(name)
            connection.execute(f'INSERT INTO "{_PARAMS}" VALUES (?, ?)', [as_of, member_id])
            result = connection.execute(f"EXECUTE {part}").fetchall()
        finally:
            connection.execute("ROLLBACK")
        if not result:
            return None
        (row,) = result
        return tuple(row)

    def close(self) -> None:
        """Close the in-memory database."""
        self._connection.close()


_NETWORK_TYPES = pa.array(sorted(NETWORK_EVENT_TYPES), pa.string())


def _with_network(own: pa.Table, network: Rows | None) -> pa.Table:
    """The member's events and, if given, their neighbourhood's, as one table."""
    return own if network is None else pa.concat_tables([own, to_events_arrow(network)])


def compute_member(
    member_id: str,
    events: Rows,
    as_of: dt.datetime,
    **inputs: Any,
) -> Values | None:
    """One-off convenience over :class:`OnlineFeatures` (a service keeps an instance)."""
    online = OnlineFeatures()
    try:
        return online.compute(member_id, events, as_of, **inputs)
    finally:
        online.close()
