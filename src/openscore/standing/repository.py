"""The ledger rows online rescoring reads: a member's events and their network's. Never writes.

Rows come back in the wide shape the feature definitions read (envelope columns plus the
type's own fields, dates as dates), the same shape the lake holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select, text
from sqlalchemy.orm import Session

from openscore.db.tables import (
    GROUP_TYPES,
    GROUP_TYPES_SQL,
    NETWORK_TYPES_SQL,
    EventRecord,
    Member,
    ScoreRecord,
    group_id_sql,
)
from openscore.features import rules
from openscore.ledger.wide import stored_to_wide

events = cast(Table, EventRecord.__table__)
members = cast(Table, Member.__table__)
scores = cast(Table, ScoreRecord.__table__)

_TIES = ("connection_made", "connection_removed")
_CHUNK = 5_000
_COLUMNS = (
    events.c.event_id,
    events.c.type,
    events.c.member_id,
    events.c.occurred_at,
    events.c.source,
    events.c.fields,
)


_ENVELOPE = ("event_id", "type", "member_id", "occurred_at", "source")


def _wide(row: Any) -> dict[str, Any]:
    return stored_to_wide(row, _ENVELOPE)


def network_query(member_ids: list[str]) -> Select[Any]:
    """The network events of these members, in the partial index's terms."""
    return select(*_COLUMNS).where(events.c.member_id.in_(member_ids), text(NETWORK_TYPES_SQL))


class StandingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def connections_opt_in(self, member_id: str) -> bool | None:
        """Whether the member opted in to the connections dimension; None if not a member."""
        query = select(members.c.connections_opt_in).where(members.c.member_id == member_id)
        value = self.session.execute(query).scalar_one_or_none()
        return None if value is None else bool(value)

    def member_events(self, member_id: str) -> list[dict[str, Any]]:
        query = select(*_COLUMNS).where(events.c.member_id == member_id)
        return [_wide(row) for row in self.session.execute(query)]

    def network_events_of(self, member_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The network events (``NETWORK_TYPES``) of these members.

        The condition on type is the partial index's own text, with literal values, so that
        both stores can prove the index applies and find the rows by seeks.
        """
        wanted = sorted(set(member_ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), _CHUNK):
            query = network_query(wanted[start : start + _CHUNK])
            found.extend(_wide(row) for row in self.session.execute(query))
        return found

    def network_events(self, member_id: str, own: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Network events of every member within ``PAGERANK_STEPS`` ties of the member and
        of every member who was ever in one of the member's groups.

        Ties are recorded on both members' histories, so each ring is found from the previous
        ring's own tie events, read by the partial network index together with the rest of
        that ring's network events: every member's events are read once. Co-members are
        found by the group index (migration 0005) after the rings, so that a co-member who
        is also within reach is still followed through their ties. Reading more members
        than needed changes no feature (a group spell or tie of any state counts here).
        """
        seen = {member_id}
        found: list[dict[str, Any]] = []
        ring = {e["peer_member_id"] for e in own if e["type"] in _TIES}
        for _ in range(rules.PAGERANK_STEPS):
            ring -= seen
            if not ring:
                break
            seen |= ring
            rows = self.network_events_of(ring)
            found.extend(rows)
            ring = {e["peer_member_id"] for e in rows if e["type"] in _TIES}
        groups = {e["group_id"] for e in own if e["type"] in GROUP_TYPES and e.get("group_id")}
        co_members = self.group_members(groups) - seen
        if co_members:
            found.extend(self.network_events_of(co_members))
        return found

    def group_members(self, group_ids: Iterable[str]) -> set[str]:
        """Everyone with a ``group_joined`` or ``group_left`` event in these groups."""
        wanted = sorted(set(group_ids))
        members_found: set[str] = set()
        expression = group_id_sql(self.session.get_bind().dialect.name)
        query = text(
            f"SELECT DISTINCT member_id FROM events WHERE {GROUP_TYPES_SQL} "
            f"AND {expression} IN :groups"
        ).bindparams(bindparam("groups", expanding=True))
        for start in range(0, len(wanted), _CHUNK):
            rows = self.session.execute(query, {"groups": wanted[start : start + _CHUNK]})
            members_found.update(row.member_id for row in rows)
        return members_found

    def scores_of(self, member_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Past scores of these members (what connections features average, lagged)."""
        wanted = sorted(set(member_ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), _CHUNK):
            query = select(scores.c.member_id, scores.c.as_of, scores.c.score).where(
                scores.c.member_id.in_(wanted[start : start + _CHUNK])
            )
            found.extend(
                {"member_id": r.member_id, "as_of": r.as_of, "score": float(r.score)}
                for r in self.session.execute(query)
            )
        return found
