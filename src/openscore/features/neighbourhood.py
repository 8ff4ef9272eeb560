"""One member's inputs from the lake: their events and their neighbourhood's, for the online path.

The online path needs, beside the member's own events, the :data:`NETWORK_EVENT_TYPES` events
of every member within ``PAGERANK_STEPS`` ties and of every member of the member's groups.
This finds them with a few DuckDB queries over the Parquet lake (ties of any state count
when looking for neighbours: a larger neighbourhood than needed gives the same features).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from openscore.features import rules
from openscore.features.inputs import EVENT_COLUMNS, to_events_arrow
from openscore.features.online import NETWORK_EVENT_TYPES


def _events_view(connection: duckdb.DuckDBPyConnection, lake: Path) -> None:
    events = lake / "events"
    if not events.is_dir():
        raise FileNotFoundError(f"no events/ directory in {lake}: is it a lake?")
    columns = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
    pattern = str(events / "*" / "*.parquet").replace("'", "''")
    connection.execute(
        f"CREATE VIEW events AS SELECT {columns} FROM read_parquet('{pattern}', "
        "hive_partitioning = false, union_by_name = true)"
    )


def member_inputs(lake: Path, member_id: str) -> tuple[pa.Table, pa.Table]:
    """The member's events, and the network events of their neighbourhood."""
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        _events_view(connection, lake)
        mine = connection.execute(
            "SELECT * FROM events WHERE member_id = ?", [member_id]
        ).to_arrow_table()
        around = {member_id}
        frontier = {member_id}
        for _ in range(rules.PAGERANK_STEPS):
            if not frontier:
                break
            rows = connection.execute(
                "SELECT DISTINCT member_id, peer_member_id FROM events "
                "WHERE type IN ('connection_made', 'connection_removed') "
                "AND (member_id IN (SELECT unnest($1)) OR peer_member_id IN (SELECT unnest($1)))",
                [sorted(frontier)],
            ).fetchall()
            found = {m for pair in rows for m in pair if m is not None}
            frontier = found - around
            around |= found
        groups = connection.execute(
            "SELECT DISTINCT group_id FROM events WHERE member_id = ? AND group_id IS NOT NULL",
            [member_id],
        ).fetchall()
        if groups:
            co_members = connection.execute(
                "SELECT DISTINCT member_id FROM events WHERE group_id IN (SELECT unnest($1))",
                [[g for (g,) in groups]],
            ).fetchall()
            around |= {m for (m,) in co_members}
        around.discard(member_id)
        network = connection.execute(
            "SELECT * FROM events WHERE member_id IN (SELECT unnest($1)) "
            "AND type IN (SELECT unnest($2))",
            [sorted(around), sorted(NETWORK_EVENT_TYPES)],
        ).to_arrow_table()
        return to_events_arrow(mine), to_events_arrow(network)
    finally:
        connection.close()
