"""Merge this round's branches: the device list's indexes and complaints' kinds and answer clocks.

Revision ID: 0011
Revises: 0010_complaints, 0010_device_indexes
"""

revision = '0011'
down_revision = ('0010_complaints', '0010_device_indexes')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
