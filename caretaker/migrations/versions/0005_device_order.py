"""device order: each device's seq runs and recent readings; the telemetry key holds seq

Revision ID: 0005_device_order
Revises: 0004
Create Date: 2026-12-01 21:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_device_order'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('device_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_marks', sa.Text(), nullable=True))

    # two distinct readings within one millisecond differ by seq: both are kept (no seq counts as -1)
    with op.batch_alter_table('telemetry', schema=None) as batch_op:
        batch_op.drop_constraint('uq_telemetry_device_metric_ts', type_='unique')
    op.create_index('uq_telemetry_device_metric_ts_seq', 'telemetry',
                    ['device_id', 'metric', 'ts', sa.text('coalesce(seq, -1)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_telemetry_device_metric_ts_seq', table_name='telemetry')
    with op.batch_alter_table('telemetry', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_telemetry_device_metric_ts', ['device_id', 'metric', 'ts'])
    with op.batch_alter_table('device_states', schema=None) as batch_op:
        batch_op.drop_column('order_marks')
