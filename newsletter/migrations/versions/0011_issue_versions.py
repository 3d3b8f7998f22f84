"""Issue versions: every save of an issue kept, with who saved it; and block drafts kept as they are typed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 20:15:00

Each issue that exists already gets one version, its content as it is now, so the first change made
after the upgrade can be compared with it and undone.
"""

import hashlib
import json

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _fingerprint(row: sa.Row) -> str:
    # The same fingerprint as newsletter/issues/store.py content_version, as it is at this revision.
    content = [row.title, row.subject, row.preheader, row.language,
               row.issue_date.isoformat() if row.issue_date else None, row.blocks]
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]


def upgrade() -> None:
    versions = op.create_table(
        "issue_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("saved_by_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_issue_versions_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["saved_by_id"], ["users.id"], name=op.f("fk_issue_versions_saved_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_versions")),
    )
    with op.batch_alter_table("issue_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_versions_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "block_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("block_key", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_block_drafts_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_block_drafts_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_drafts")),
        sa.UniqueConstraint("user_id", "issue_id", "block_key", name=op.f("uq_block_drafts_user_id")),
    )
    with op.batch_alter_table("block_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_drafts_issue_id"), ["issue_id"], unique=False)

    issues = sa.table(
        "issues", sa.column("id", sa.Integer()), sa.column("title", sa.String()), sa.column("subject", sa.String()),
        sa.column("preheader", sa.String()), sa.column("language", sa.String()), sa.column("issue_date", sa.Date()),
        sa.column("blocks", sa.JSON()), sa.column("block_keys", sa.JSON()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = []
    for row in connection.execute(sa.select(issues)):
        blocks = list(row.blocks or [])
        keys = list(row.block_keys or [])
        rows.append({
            "issue_id": row.id, "saved_at": row.updated_at, "saved_by_id": None,
            "saved_by_name": "before version history", "description": "As it was when version history began",
            "content": {"title": row.title, "subject": row.subject, "preheader": row.preheader or "",
                        "language": row.language, "date": row.issue_date.isoformat() if row.issue_date else None,
                        "blocks": blocks, "block_keys": keys if len(keys) == len(blocks) else []},
            "fingerprint": _fingerprint(row),
        })
    if rows:
        op.bulk_insert(versions, rows)


def downgrade() -> None:
    with op.batch_alter_table("block_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_drafts_issue_id"))
    op.drop_table("block_drafts")
    with op.batch_alter_table("issue_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_versions_issue_id"))
    op.drop_table("issue_versions")
