"""Score records: one row per member, as_of and model version; history is kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openscore.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scores",
        sa.Column("score_id", SEQ, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("model_version", sa.String(80), nullable=False),
        sa.Column("features_hash", sa.String(64), nullable=False),
        sa.Column("subscores", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("cause", sa.String(120), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("score_id", name="pk_scores"),
    )
    op.create_index("ix_scores_member_as_of", "scores", ["member_id", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_scores_member_as_of", table_name="scores")
    op.drop_table("scores")
