"""escalation: the notices supervisors were sent (acknowledged or not), each ticket's climb, contractors' offers

Revision ID: 0007_escalation
Revises: 0006
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0007_escalation'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notices',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('acked_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.Column('acked_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notices_ticket', 'notices', ['ticket_id', 'at'])
    op.create_table('escalations',
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('started_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('stopped_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.Column('stopped_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('ticket_id'),
    )
    op.create_table('contractor_offers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('contractor', sa.String(length=64), nullable=False),
    sa.Column('trade', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('offered_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('arrive_by', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('late_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_contractor_offers_ticket', 'contractor_offers', ['ticket_id'])


def downgrade() -> None:
    op.drop_table('contractor_offers')
    op.drop_table('escalations')
    op.drop_table('notices')
