"""Events indexed by (member_id, type, occurred_at) instead of (member_id, occurred_at).

Online rescoring reads a member's network: the few tie, group, default and enrolment events
of hundreds of members, out of their hundreds of events each. With the type in the index
those rows are found by seeks instead of reading every event of every member in reach (five
times faster on the demo city). A member's own events are still found by the leading
member_id, and they are few enough to sort; one index, not two, keeps ingestion's cost.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_member_type_occurred", "events", ["member_id", "type", "occurred_at"]
    )
    op.drop_index("ix_events_member_occurred", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_member_occurred", "events", ["member_id", "occurred_at"])
    op.drop_index("ix_events_member_type_occurred", table_name="events")
