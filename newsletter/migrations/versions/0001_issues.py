"""Issues: the newsletter issues and their blocks.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 10:08:50.210513
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('preheader', sa.String(length=300), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('blocks', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('slug', name=op.f('uq_issues_slug'))
    )
    op.create_index('ix_issues_status', 'issues', ['status'])


def downgrade() -> None:
    op.drop_table('issues')
