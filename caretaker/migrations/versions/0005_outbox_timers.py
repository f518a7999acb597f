"""periodic jobs run once per period across instances: a lease row per job

Revision ID: 0005_outbox_timers
Revises: 0004
Create Date: 2026-12-01 21:10:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0005_outbox_timers'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_leases',
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('ran_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job')
    )


def downgrade() -> None:
    op.drop_table('job_leases')
