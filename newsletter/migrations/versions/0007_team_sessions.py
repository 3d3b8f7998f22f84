"""Team sign-in: server-side sessions and sign-in throttling.

A session is a row (deleted by sign-out, "sign out everywhere", a password change or deactivation);
wrong passwords slow down one address from one client network instead of locking the account. The
old lock columns on users stay, unused: dropping them would make SQLite rebuild the users table, and
dropping the old one sets every issue's author and approver to nobody.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 19:45:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_team_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_sessions")),
    )
    with op.batch_alter_table("team_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wait_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttles")),
    )
    with op.batch_alter_table("sign_in_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_throttles_last_failure_at"), ["last_failure_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_throttles_last_failure_at"))
    op.drop_table("sign_in_throttles")

    with op.batch_alter_table("team_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_sessions_user_id"))
    op.drop_table("team_sessions")
