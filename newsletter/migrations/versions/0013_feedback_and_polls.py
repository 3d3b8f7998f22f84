"""Feedback answers, poll answers and readers' comments, stored without any reader identity (issue 13).

Adds `issues.feedback` (end the issue with "Was this newsletter useful?", on by default) and three
tables: `feedback_answers` and `poll_answers` (one row per answering browser, named only by the hash
of a random cookie value, unique per issue or poll so a changed answer replaces the old one), and
`reader_comments` (what families typed, with no name, address or browser; deleted after the
retention period).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy of the table: on SQLite a copy drops the old table, and the
    # foreign keys that cascade from it (versions, review comments) would take their rows with it.
    op.add_column("issues", sa.Column("feedback", sa.Boolean(), server_default=sa.true(), nullable=False))

    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Enum("useful", "not_useful", name="usefulness", native_enum=False, length=20),
                  nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_feedback_answers_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_answers")),
        sa.UniqueConstraint("issue_id", "browser", name="uq_feedback_answers_issue_browser"),
    )
    op.create_index(op.f("ix_feedback_answers_issue_id"), "feedback_answers", ["issue_id"], unique=False)

    op.create_table(
        "poll_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("poll_key", sa.String(length=16), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_poll_answers_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_answers")),
        sa.UniqueConstraint("issue_id", "poll_key", "browser", name="uq_poll_answers_issue_poll_browser"),
    )
    op.create_index(op.f("ix_poll_answers_issue_id"), "poll_answers", ["issue_id"], unique=False)

    op.create_table(
        "reader_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Enum("feedback", "poll", name="comment_source", native_enum=False, length=20),
                  nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("poll_key", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_reader_comments_issue_id_issues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_comments")),
    )
    op.create_index(op.f("ix_reader_comments_issue_id"), "reader_comments", ["issue_id"], unique=False)
    op.create_index(op.f("ix_reader_comments_created_at"), "reader_comments", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reader_comments_created_at"), table_name="reader_comments")
    op.drop_index(op.f("ix_reader_comments_issue_id"), table_name="reader_comments")
    op.drop_table("reader_comments")
    op.drop_index(op.f("ix_poll_answers_issue_id"), table_name="poll_answers")
    op.drop_table("poll_answers")
    op.drop_index(op.f("ix_feedback_answers_issue_id"), table_name="feedback_answers")
    op.drop_table("feedback_answers")
    op.drop_column("issues", "feedback")  # SQLite 3.35 and later drop a column in place
