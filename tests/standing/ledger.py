"""Network events for the standing tests."""

from __future__ import annotations

import datetime as dt

from openscore.ledger.catalogue import ConnectionMade, GroupJoined
from tests.api.world import ENROLLED_AT


def joined(member_id: str, group_id: str) -> GroupJoined:
    """``member_id`` joins the club ``group_id`` ten days after enrolling."""
    return GroupJoined(
        schema_version=1,
        event_id=f"join-{member_id}-{group_id}",
        type="group_joined",
        member_id=member_id,
        occurred_at=ENROLLED_AT + dt.timedelta(days=10),
        source="platform",
        group_id=group_id,
        group_kind="club",
    )


def tie(member_id: str, peer: str) -> ConnectionMade:
    """``member_id`` reports a friendship with ``peer`` twenty days after enrolling."""
    return ConnectionMade(
        schema_version=1,
        event_id=f"tie-{member_id}-{peer}",
        type="connection_made",
        member_id=member_id,
        occurred_at=ENROLLED_AT + dt.timedelta(days=20),
        source="platform",
        peer_member_id=peer,
        relation="friend",
    )
