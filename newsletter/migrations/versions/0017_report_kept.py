"""A campaign keeps its "unsubscribed because of this issue" figure when its rows forget their readers.

That figure is worked out from which readers each campaign reached (newsletter/counts/report.py); once
retention has cleared the delivery rows' link to a person it could no longer be worked out, so the
figure is written down on the campaign first.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 06:40:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("unsubscribed_kept", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("unsubscribed_kept")
