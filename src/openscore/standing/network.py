"""Members' network events kept in memory between rescorings, checked against the store.

Reading a neighbourhood is most of an opted-in member's rescoring: a few hundred members'
network events, about 2,400 rows, turned from the driver's rows into Arrow. Neighbourhoods
overlap, and network events (enrolments, ties, groups, defaults) are a small share of what
arrives, so the same members' rows are read again and again unchanged.

``NetworkMemory`` keeps each member's network events (all of them, as an Arrow table) with
the member's network token (``members.network_version``, migration 0007). The ledger gives a
member a fresh random token in the transaction that adds any of their network events, so a
member's rows in memory are theirs in the store exactly when the tokens agree: one indexed
read of the tokens replaces reading and converting the rows. The tokens are read before the
rows they vouch for, so rows can only be newer than their token, never older (a change
between the two reads shows as a token that no longer matches next time).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
from cachetools import LRUCache

from openscore.db.tables import NETWORK_TYPES
from openscore.features.inputs import events_arrow_schema
from openscore.ledger.catalogue import EVENT_TYPES, type_fields


def _network_columns() -> tuple[str, ...]:
    """The columns a network event can fill: the envelope and its types' own fields."""
    filled = {"event_id", "type", "member_id", "source", "occurred_at"}
    for name in NETWORK_TYPES:
        filled |= set(type_fields(EVENT_TYPES[name]))
    return tuple(name for name in events_arrow_schema().names if name in filled)


#: Kept tables hold only these columns (the others are empty for every network event): 11
#: of 26, which makes gathering a few hundred members' tables into one twice as fast.
NETWORK_COLUMNS = _network_columns()


def widen(table: pa.Table) -> pa.Table:
    """A kept (narrow) table with every column the features read, the others empty."""
    schema = events_arrow_schema()
    columns = [
        table.column(field.name)
        if field.name in NETWORK_COLUMNS
        else pa.nulls(table.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


#: How many members' network events are kept (least recently used leave first). In the
#: bench's city a member has about ten, a few kilobytes as Arrow.
MEMBERS_KEPT = 100_000


class NetworkMemory:
    """``member_id → (token, network events)``, shared by the service's threads; the events
    are kept narrow (:data:`NETWORK_COLUMNS`)."""

    def __init__(self, members: int = MEMBERS_KEPT) -> None:
        self._kept: LRUCache[str, tuple[int, pa.Table]] = LRUCache(maxsize=members)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def recall(self, tokens: Mapping[str, int]) -> tuple[list[pa.Table], list[str]]:
        """The kept (narrow) tables of members whose token still matches, and the members to
        read."""
        found: list[pa.Table] = []
        missing: list[str] = []
        with self._lock:
            for member_id, token in tokens.items():
                kept = self._kept.get(member_id)
                if kept is not None and kept[0] == token:
                    found.append(kept[1])
                else:
                    missing.append(member_id)
            self.hits += len(found)
            self.misses += len(missing)
        return found, missing

    def keep(self, table: pa.Table, tokens: Mapping[str, int], members: Iterable[str]) -> None:
        """Keep ``table`` (every network event of ``members``, read after ``tokens``) by member."""
        by_member = _split(table.select(list(NETWORK_COLUMNS)))
        empty = table.select(list(NETWORK_COLUMNS)).schema.empty_table()
        with self._lock:
            for member_id in members:
                token = tokens.get(member_id)
                if token is not None:
                    self._kept[member_id] = (token, by_member.get(member_id, empty))

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()


def _split(table: pa.Table) -> dict[str, pa.Table]:
    """One table per member (zero-copy slices of the table sorted by member)."""
    if table.num_rows == 0:
        return {}
    ordered = table.sort_by("member_id")
    runs = pc.run_end_encode(ordered.column("member_id").combine_chunks())
    slices: dict[str, pa.Table] = {}
    start = 0
    for member_id, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
        slices[member_id] = ordered.slice(start, end - start)
        start = end
    return slices
