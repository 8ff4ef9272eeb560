"""The network index covers the columns online rescoring reads, so no event row is visited.

Reading a member's network found the rows by the partial index of 0004, then looked each
one up in the events table: on SQLite about 2 µs a row, scattered over the file, most of the
time of the read. With the columns read (``event_id``, ``type``, ``source``,
``occurred_at``, ``fields``) in the index after ``member_id``, the read is a scan of index
entries alone ("USING COVERING INDEX"): in the service bench's city, 24 ms to 15 ms for a
member's network (median). The entries are longer, for the one event in twenty that is in
the index; PostgreSQL can answer from it with index-only scans once pages are all-visible.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen here as it was at this revision (openscore.db.tables.NETWORK_TYPES_SQL).
NETWORK_TYPES_SQL = (
    "type IN ('connection_made', 'connection_removed', 'event_retracted', 'group_joined', "
    "'group_left', 'identity_verified', 'loan_defaulted', 'member_enrolled', 'member_left')"
)
COVERED = ["member_id", "event_id", "type", "source", "occurred_at", "fields"]


def _create(columns: list[str]) -> None:
    op.create_index(
        "ix_events_network_member",
        "events",
        columns,
        sqlite_where=sa.text(NETWORK_TYPES_SQL),
        postgresql_where=sa.text(NETWORK_TYPES_SQL),
    )


def upgrade() -> None:
    op.drop_index("ix_events_network_member", table_name="events")
    _create(COVERED)


def downgrade() -> None:
    op.drop_index("ix_events_network_member", table_name="events")
    _create(["member_id"])
