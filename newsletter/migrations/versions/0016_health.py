"""Health, metrics and the doctor: whatever they need kept in the database (issue 14).

Reserved so the changes made side by side keep one numbering; filled in by the work it names.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 06:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
