"""Link clicks and web-view visits counted per issue, as numbers only (issue 13).

`link_counts`: one row per distinct address in an issue's email (unique on the issue and the
address's SHA-256), with its click count; the signed redirect `/r/<issue>/<token>` names a row.
`web_view_counts`: one row per issue with its web view's visits. Neither table has, or could be
joined through, anything naming a reader.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_link_counts_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_counts")),
        sa.UniqueConstraint("issue_id", "url_hash", name="uq_link_counts_issue_url"),
    )
    op.create_table(
        "web_view_counts",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_web_view_counts_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("issue_id", name=op.f("pk_web_view_counts")),
    )


def downgrade() -> None:
    op.drop_table("web_view_counts")
    op.drop_table("link_counts")
