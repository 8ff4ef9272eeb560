"""The ledger: sources, members, personal data, ingestions, events, export watermarks.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from openscore.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEEDED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("source_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", name="pk_sources"),
    )
    op.bulk_insert(
        sa.table(
            "sources",
            sa.column("source_id", sa.String),
            sa.column("kind", sa.String),
            sa.column("created_at", UTCDateTime()),
        ),
        [
            {"source_id": "platform", "kind": "platform", "created_at": SEEDED_AT},
            {"source_id": "member", "kind": "member", "created_at": SEEDED_AT},
        ],
    )
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=False),
        sa.Column("enrolled_at", UTCDateTime(), nullable=False),
        sa.Column("terms_version", sa.String(20), nullable=False),
        sa.Column("connections_opt_in", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_members"),
    )
    op.create_table(
        "member_personal_data",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.member_id"],
            name="fk_member_personal_data_member_id_members",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_personal_data"),
    )
    op.create_table(
        "ingestions",
        sa.Column("ingestion_id", SEQ, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ingestion_id", name="pk_ingestions"),
    )
    op.create_table(
        "events",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("schema_version", sa.SmallInteger(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("ingestion_id", SEQ, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.UniqueConstraint("source", "event_id", name="uq_events_source"),
    )
    op.create_index("ix_events_member_occurred", "events", ["member_id", "occurred_at"])
    op.create_table(
        "export_watermarks",
        sa.Column("lake", sa.Text(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("lake", name="pk_export_watermarks"),
    )


def downgrade() -> None:
    op.drop_table("export_watermarks")
    op.drop_index("ix_events_member_occurred", table_name="events")
    op.drop_table("events")
    op.drop_table("ingestions")
    op.drop_table("member_personal_data")
    op.drop_table("members")
    op.drop_table("sources")
