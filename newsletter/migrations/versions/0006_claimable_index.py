"""Deliveries: a partial index of the rows still to send, for the claim query.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 15:10:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UNSENT = sa.text("state IN ('queued', 'sending')")


def upgrade() -> None:
    op.create_index("ix_deliveries_claimable", "deliveries", ["campaign_id", "id"], unique=False,
                    postgresql_where=UNSENT, sqlite_where=UNSENT)


def downgrade() -> None:
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
