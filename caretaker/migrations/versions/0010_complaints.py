"""complaints and suggestions: a report's kind, complaint type, answer deadline and answer

Revision ID: 0010_complaints
Revises: 0009_estate_leases
Create Date: 2026-12-02 07:30:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0010_complaints'
down_revision = '0009_estate_leases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_kinds',
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('complaint_type', sa.String(length=16), nullable=True),
    sa.Column('answer_by', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    op.create_index('ix_ticket_kinds_kind', 'ticket_kinds', ['kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_kinds_kind', table_name='ticket_kinds')
    op.drop_table('ticket_kinds')
