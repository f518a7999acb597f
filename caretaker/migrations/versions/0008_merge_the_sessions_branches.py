"""Merge the branches of this round's work: limits, assignments, channels, escalation, photos, residents.

Revision ID: 0008
Revises: 0005_limits, 0007_assignments, 0007_channels, 0007_escalation, 0007_photos, 0007_residents
"""

revision = '0008'
down_revision = ('0005_limits', '0007_assignments', '0007_channels', '0007_escalation', '0007_photos',
                 '0007_residents')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
