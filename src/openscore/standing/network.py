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
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cachetools import LRUCache

from openscore.db.tables import GROUP_TYPES, NETWORK_TYPES
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

#: Ties, recorded on both members' histories.
TIE_TYPES = ("connection_made", "connection_removed")
#: What the connections features need of a member at the edge of a neighbourhood besides
#: their ties: the facts that make them a member of the graph and the value a walk reads.
FACT_TYPES = (
    "member_enrolled",
    "member_left",
    "identity_verified",
    "loan_defaulted",
    "event_retracted",
)
if set(NETWORK_TYPES) != {*TIE_TYPES, *FACT_TYPES, *GROUP_TYPES}:
    raise RuntimeError("network events must be facts, ties or group spells")


@dataclass(frozen=True, slots=True)
class Kept:
    """A member's network events as a neighbourhood takes them: row ranges of facts, ties
    and group spells in the (narrow) table of the read they came from, shared with the
    other members of that read, so that a neighbourhood is gathered by one ``take`` per
    read rather than by joining hundreds of small tables."""

    token: int
    rows: pa.Table
    facts: range
    ties: range
    spells: range
    #: The other end of each of the member's ties, in the ties' order.
    tie_peers: tuple[str | None, ...]
    #: The other ends of the member's ties (their part of the next ring).
    peers: frozenset[str]


class NetworkMemory:
    """``member_id → Kept``, shared by the service's threads; the events are kept narrow
    (:data:`NETWORK_COLUMNS`)."""

    def __init__(self, members: int = MEMBERS_KEPT) -> None:
        self._kept: LRUCache[str, Kept] = LRUCache(maxsize=members)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def recall(self, tokens: Mapping[str, int]) -> tuple[dict[str, Kept], list[str]]:
        """What is kept of the members whose token still matches, and the members to read."""
        found: dict[str, Kept] = {}
        missing: list[str] = []
        with self._lock:
            for member_id, token in tokens.items():
                kept = self._kept.get(member_id)
                if kept is not None and kept.token == token:
                    found[member_id] = kept
                else:
                    missing.append(member_id)
            self.hits += len(found)
            self.misses += len(missing)
        return found, missing

    def keep(
        self, table: pa.Table, tokens: Mapping[str, int], members: Iterable[str]
    ) -> dict[str, Kept]:
        """Keep ``table`` (every network event of ``members``, read after ``tokens``) by
        member; returns what was kept (members without a token are not)."""
        rows = _ranked(table.select(list(NETWORK_COLUMNS)))
        ranges = _ranges(rows)
        peers = rows.column("peer_member_id").to_pylist()
        rows = rows.drop_columns(["_rank"])
        kept: dict[str, Kept] = {}
        for member_id in members:
            token = tokens.get(member_id)
            if token is not None:
                facts, ties, spells = ranges.get(member_id, _NONE)
                tie_peers = tuple(peers[ties.start : ties.stop])
                ends = frozenset(peer for peer in tie_peers if peer is not None)
                kept[member_id] = Kept(token, rows, facts, ties, spells, tie_peers, ends)
        with self._lock:
            self._kept.update(kept)
        return kept

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()


class Gathering:
    """Rows of kept members' events, gathered into one events table (:meth:`table`)."""

    def __init__(self) -> None:
        self._taken: dict[int, tuple[pa.Table, list[int]]] = {}

    def _indices(self, kept: Kept) -> list[int]:
        return self._taken.setdefault(id(kept.rows), (kept.rows, []))[1]

    def take(self, kept: Kept, rows: range) -> None:
        """Take these rows of ``kept`` (its ``facts``, ``ties`` or ``spells``)."""
        self._indices(kept).extend(rows)

    def take_ties_to(self, kept: Kept, peers: Collection[str]) -> None:
        """Take the ties of ``kept`` to any of ``peers``."""
        start = kept.ties.start
        chosen = [start + i for i, peer in enumerate(kept.tie_peers) if peer in peers]
        self._indices(kept).extend(chosen)

    def table(self) -> pa.Table:
        """Everything taken, as the events table the features read (one chunk)."""
        taken = [
            rows.take(pa.array(indices, pa.int64()))
            for rows, indices in self._taken.values()
            if indices
        ]
        if not taken:
            return events_arrow_schema().empty_table()
        return widen(pa.concat_tables(taken).combine_chunks())


_KINDS = pa.array([*FACT_TYPES, *TIE_TYPES, *GROUP_TYPES], pa.string())
#: Where each kind of event sorts: facts, then ties, then group spells.
_RANKS = pa.array([0] * len(FACT_TYPES) + [1] * len(TIE_TYPES) + [2] * len(GROUP_TYPES))
_NONE = (range(0), range(0), range(0))


def _ranked(table: pa.Table) -> pa.Table:
    """The table sorted by member and kind (facts, ties, spells), with the kind's rank, in
    one chunk."""
    ranks = pc.take(_RANKS, pc.index_in(table.column("type"), value_set=_KINDS))
    ranked = table.append_column("_rank", ranks)
    return ranked.sort_by([("member_id", "ascending"), ("_rank", "ascending")]).combine_chunks()


def _ranges(ranked: pa.Table) -> dict[str, tuple[range, range, range]]:
    """Each member's rows of facts, ties and spells in a :func:`_ranked` table."""
    if ranked.num_rows == 0:
        return {}
    members = ranked.column("member_id").to_pylist()
    ranks = ranked.column("_rank").to_numpy()
    runs = pc.run_end_encode(ranked.column("member_id").chunk(0))
    found: dict[str, tuple[range, range, range]] = {}
    start = 0
    for end in runs.run_ends.to_pylist():
        ties, spells = (start + int(b) for b in np.searchsorted(ranks[start:end], [1, 2]))
        found[members[start]] = (range(start, ties), range(ties, spells), range(spells, end))
        start = end
    return found
