"""Link clicks and web-view visits counted per issue, as numbers only (issue 13).

Reserved so the changes made side by side keep one numbering; filled in by the work it names.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
