"""Consent log: one line per event, and race-proof subscription changes.

No schema change was needed: one line per event comes from taking the person's lock and writing
conditionally (subscribers/membership.py, csv_import.py), not from a key on the log, because the same
person may rightly leave or join the same list more than once over time. The revision stays, empty,
so the numbering agreed with the other changes holds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 19:45:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
