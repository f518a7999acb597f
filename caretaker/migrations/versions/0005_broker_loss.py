"""loss marks: how much of each device's gap count the loss alarm has reported

Revision ID: 0005_broker_loss
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_broker_loss'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'loss_marks',
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('reported', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('open', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('device_id'),
    )
    # gaps counted before this upgrade were never alarmed and are long past: count them as reported, so
    # the first start does not raise an alarm about them
    op.execute("INSERT INTO loss_marks (device_id, reported, open) SELECT device_id, COALESCE(gaps, 0), 0 "
               "FROM device_states")


def downgrade() -> None:
    op.drop_table('loss_marks')
