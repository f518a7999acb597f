"""device indexes: the devices API reads one page of devices by id (docs/api.md, "Devices and telemetry")

The device list and one device read each device's open alerts and its faults of the last 30 days by device id,
and the `online=false` filter the ids of the offline devices. The offline index is partial: ingest rewrites a
device's state row with every batch, and a row that stays online never touches it.

Revision ID: 0010_device_indexes
Revises: 0009_estate_leases
Create Date: 2026-12-02 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_device_indexes'
down_revision = '0009_estate_leases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_alerts_device_state', 'alerts', ['device_id', 'state'])
    op.create_index('ix_alerts_device_raised', 'alerts', ['device_id', 'raised_at'])
    op.create_index('ix_device_states_offline', 'device_states', ['device_id'],
                    sqlite_where=sa.text('online = 0'), postgresql_where=sa.text('online = false'))


def downgrade() -> None:
    op.drop_index('ix_device_states_offline', table_name='device_states')
    op.drop_index('ix_alerts_device_raised', table_name='alerts')
    op.drop_index('ix_alerts_device_state', table_name='alerts')
