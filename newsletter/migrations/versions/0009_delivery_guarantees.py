"""Delivery: campaigns that fail on their own, one live campaign per issue, erased readers' rows kept,
and a send-rate table shared by every process on the embedded default.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 19:45:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNSENT = sa.text("state IN ('queued', 'sending')")
LIVE = sa.text("state IN ('scheduled', 'running', 'paused', 'failed')")


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_reason", sa.Text(), nullable=False, server_default=""))
    # Two "Send now" presses, or two approvers at once, must not make two campaigns of one issue.
    op.create_index("uq_campaigns_live_issue", "campaigns", ["issue_id"], unique=True,
                    postgresql_where=LIVE, sqlite_where=LIVE)

    # An erased reader's rows stay, without the link to them, so every message sent stays counted.
    # (Batch mode rebuilds the table on SQLite and would lose the partial index's condition: drop it first.)
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_subscriber_id_subscribers", type_="foreignkey")
        batch_op.alter_column("subscriber_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key("fk_deliveries_subscriber_id_subscribers", "subscribers",
                                    ["subscriber_id"], ["id"], ondelete="SET NULL")
    op.create_index("ix_deliveries_claimable", "deliveries", ["campaign_id", "id"], unique=False,
                    postgresql_where=UNSENT, sqlite_where=UNSENT)

    op.create_table(
        "send_rate_limits",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("tat_us", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_send_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("send_rate_limits")
    op.execute("DELETE FROM deliveries WHERE subscriber_id IS NULL")
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_subscriber_id_subscribers", type_="foreignkey")
        batch_op.alter_column("subscriber_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_deliveries_subscriber_id_subscribers", "subscribers",
                                    ["subscriber_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_deliveries_claimable", "deliveries", ["campaign_id", "id"], unique=False,
                    postgresql_where=UNSENT, sqlite_where=UNSENT)
    op.drop_index("uq_campaigns_live_issue", table_name="campaigns")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("failure_reason")
