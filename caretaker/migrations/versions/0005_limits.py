"""limits: how often an alert's condition held while it was active (a chattering sensor's flips)

Revision ID: 0005_limits
Revises: 0004
Create Date: 2026-12-01 21:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_limits'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occurrences', sa.Integer(), server_default=sa.text('1'), nullable=False))
    with op.batch_alter_table('rule_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occurrences', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('rule_states', schema=None) as batch_op:
        batch_op.drop_column('occurrences')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('occurrences')
