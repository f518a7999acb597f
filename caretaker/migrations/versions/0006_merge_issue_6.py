"""Merge the branches of issue 6's work (device order, broker loss, outbox and timers, privacy).

Revision ID: 0006
Revises: 0005_broker_loss, 0005_device_order, 0005_outbox_timers, 0005_privacy
"""

revision = '0006'
down_revision = ('0005_broker_loss', '0005_device_order', '0005_outbox_timers', '0005_privacy')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
