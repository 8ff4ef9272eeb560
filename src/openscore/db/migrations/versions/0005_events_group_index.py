"""Group events by group id: how online rescoring finds the co-members of a member's groups.

The connections feature ``groups_mean_score`` averages the lagged scores of everyone in the
member's groups, tied to the member or not. The group id lives in the event's fields, so
this is an index on an expression, written each store's way, and partial: only
``group_joined`` and ``group_left`` events are in it (about one event in a hundred).
SQLAlchemy models cannot say "this expression on SQLite, that one on PostgreSQL", so the
index lives here only (``openscore.db.tables.MIGRATION_ONLY_INDEXES``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here as they were at this revision (openscore.db.tables.group_id_sql and
# GROUP_TYPES_SQL); a query uses the index only when it repeats them exactly.
GROUP_ID_SQL = {
    "sqlite": "json_extract(fields, '$.group_id')",
    "postgresql": "(fields::jsonb ->> 'group_id')",
}
GROUP_TYPES_SQL = "type IN ('group_joined', 'group_left')"


def upgrade() -> None:
    expression = GROUP_ID_SQL[op.get_bind().dialect.name]
    op.execute(f"CREATE INDEX ix_events_group ON events ({expression}) WHERE {GROUP_TYPES_SQL}")


def downgrade() -> None:
    op.drop_index("ix_events_group", table_name="events")
