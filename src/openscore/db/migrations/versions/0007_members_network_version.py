"""Each member carries a token that changes whenever their network events change.

Online rescoring keeps each member's network events in memory (``openscore.standing
.network``) and asks the store only which members' tokens moved since it read them. The
ledger sets a fresh random token on every member whose network events (``NETWORK_TYPES``)
an ingestion adds, in the same transaction: a token is never reused, so rows read in a
transaction that rolled back can never pass for committed ones.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("network_version", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("network_version")
