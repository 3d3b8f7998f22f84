"""Running the service for years: retention, its daily run, and the first-run set-up code (issue 14).

- `campaigns.recipients_removed_at`: when a finished campaign's delivery rows lost their link to a
  person (NEWSLETTER_DELIVERY_RETENTION_DAYS after it ended); the counts stay.
- `maintenance_runs`: when the retention jobs last ran, so the beat tick and the embedded runner start
  them once a day however many processes tick.
- `first_run`: the nonce the set-up code is made from (the code itself is an HMAC of it with the secret
  key, so a copy of the database does not give it), and when it was used.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("recipients_removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "maintenance_runs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_maintenance_runs")),
    )
    op.create_table(
        "first_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_first_run")),
    )


def downgrade() -> None:
    op.drop_table("first_run")
    op.drop_table("maintenance_runs")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("recipients_removed_at")
