"""Campaign messages: the email a campaign sends, fixed when the campaign is made.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 20:20:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_messages",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("from_address", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("list_id", sa.Text(), nullable=False),
        sa.Column("list_name", sa.Text(), nullable=False),
        sa.Column("email_html", sa.Text(), nullable=False),
        sa.Column("email_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_messages_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_messages")),
    )


def downgrade() -> None:
    op.drop_table("campaign_messages")
