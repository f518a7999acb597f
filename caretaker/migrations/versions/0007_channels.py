"""channels: the outbox remembers which rows are routed to channels; one delivery row per message and channel

Revision ID: 0007_channels
Revises: 0006
Create Date: 2026-12-01 21:50:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0007_channels'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('routed_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True))
        batch.create_index('ix_outbox_routed_at', ['routed_at'])
    # what was published before channels existed is not sent to them now
    op.execute("UPDATE outbox SET routed_at = created_at")
    op.create_table('channel_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('outbox_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('done_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site', 'channel', 'outbox_id', name='uq_channel_deliveries_message'),
    )
    op.create_index('ix_channel_deliveries_queue', 'channel_deliveries', ['site', 'channel', 'status', 'id'])
    op.create_index('ix_channel_deliveries_outbox', 'channel_deliveries', ['outbox_id', 'status'])


def downgrade() -> None:
    op.drop_table('channel_deliveries')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_index('ix_outbox_routed_at')
        batch.drop_column('routed_at')
