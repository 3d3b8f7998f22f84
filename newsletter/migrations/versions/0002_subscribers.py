"""Subscribers: lists, subscribers, subscriptions, the consent log and the suppression list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _status(name: str, *values: str, length: int = 20) -> sa.Enum:
    # Plain text with no CHECK constraint (native_enum=False), as in the models: a new state is a one-line change.
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def upgrade() -> None:
    op.create_table('lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('double_opt_in', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_lists'),
    sa.UniqueConstraint('slug', name='uq_lists_slug')
    )
    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('status', _status('subscriber_status', 'active', 'unsubscribed', 'bounced', 'complained'),
              nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('token_key', sa.String(length=16), nullable=False),
    sa.Column('last_emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_subscribers'),
    sa.UniqueConstraint('email', name='uq_subscribers_email'),
    sa.UniqueConstraint('email_hash', name='uq_subscribers_email_hash'),
    sa.UniqueConstraint('token_key', name='uq_subscribers_token_key')
    )
    op.create_table('suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('reason', _status('suppression_reason', 'hard_bounce', 'complaint', 'erased', 'manual'),
              nullable=False),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_suppressions'),
    sa.UniqueConstraint('email_hash', name='uq_suppressions_email_hash')
    )
    op.create_table('consent_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('list_id', sa.Integer(), nullable=True),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('action', _status('consent_action', 'subscribe', 'confirm', 'preferences', 'unsubscribe', 'erase',
                                'bounce', 'complaint', 'purge'), nullable=False),
    sa.Column('source', _status('consent_source', 'form', 'import', 'admin', 'one-click', 'unsubscribe-page',
                                'mailto', 'preference-centre', 'bounce', 'complaint', 'system', length=30),
              nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['lists.id'], name='fk_consent_log_list_id_lists', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name='fk_consent_log_subscriber_id_subscribers',
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name='pk_consent_log')
    )
    op.create_index('ix_consent_log_at', 'consent_log', ['at'])
    op.create_index('ix_consent_log_email_hash', 'consent_log', ['email_hash'])
    op.create_index('ix_consent_log_subscriber_id', 'consent_log', ['subscriber_id'])
    op.create_table('subscriptions',
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('status', _status('subscription_status', 'unconfirmed', 'confirmed', 'unsubscribed'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['lists.id'], name='fk_subscriptions_list_id_lists', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name='fk_subscriptions_subscriber_id_subscribers',
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscriber_id', 'list_id', name='pk_subscriptions')
    )
    op.create_index('ix_subscriptions_list_id_status', 'subscriptions', ['list_id', 'status'])


def downgrade() -> None:
    op.drop_table('subscriptions')
    op.drop_table('consent_log')
    op.drop_table('suppressions')
    op.drop_table('subscribers')
    op.drop_table('lists')
