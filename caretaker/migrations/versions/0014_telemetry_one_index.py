"""telemetry keeps one index: the unique key (device, metric, ts, seq) already serves every read by device,
metric and time, so `ix_telemetry_device_metric_ts`, a prefix of it, only cost each inserted row a second
index to keep (about 10 µs a message on SQLite: docs/benchmarks.md, "Where a message's time goes").

Revision ID: 0014_telemetry_one_index
Revises: 0013_said_notes
Create Date: 2026-12-03 11:20:00
"""
from alembic import op


revision = '0014_telemetry_one_index'
down_revision = '0013_said_notes'
branch_labels = None
depends_on = None


# plain DROP/CREATE INDEX, not batch mode: on SQLite a batch rebuilds the table from what reflection sees, and
# reflection skips the unique key (an index on an expression, coalesce(seq, -1)), which would be lost
def upgrade() -> None:
    op.drop_index('ix_telemetry_device_metric_ts', table_name='telemetry')


def downgrade() -> None:
    op.create_index('ix_telemetry_device_metric_ts', 'telemetry', ['device_id', 'metric', 'ts'], unique=False)
