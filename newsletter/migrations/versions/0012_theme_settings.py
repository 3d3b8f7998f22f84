"""Theme and footer edited in the composer: one row of what the page changed from the theme file.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 20:15:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "theme_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("overrides", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_settings")),
    )


def downgrade() -> None:
    op.drop_table("theme_settings")
