"""Health, metrics and the doctor: when the scheduler last ticked, one row per clock (issue 14).

`newsletter doctor` and `/metrics` read it to tell whether `celery beat` is alive; see
newsletter/delivery/heartbeat.py for why it is kept in the database.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 06:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
