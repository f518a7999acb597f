"""assignments: one trade's work on a ticket (owner or support) with its own status and times; ticket cycles

Revision ID: 0007_assignments
Revises: 0006
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0007_assignments'
down_revision = '0006'
branch_labels = None
depends_on = None

_T = caretaker.estate.clock.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.alter_column('technician', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('trade', sa.String(length=16), server_default='general', nullable=False))
        batch_op.add_column(sa.Column('role', sa.String(length=8), server_default='owner', nullable=False))
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='offered', nullable=False))
        batch_op.add_column(sa.Column('cycle', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('offered_at', _T, nullable=True))
        batch_op.add_column(sa.Column('accept_by', _T, nullable=True))
        batch_op.add_column(sa.Column('accepted_at', _T, nullable=True))
        batch_op.add_column(sa.Column('arrived_at', _T, nullable=True))
        batch_op.add_column(sa.Column('done_at', _T, nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.create_index('ix_assignments_status', ['status'], unique=False)
    # the offers made before: the ticket's trade, the owner's; their status from how they ended, or the ticket's
    op.execute("UPDATE assignments SET trade = (SELECT category FROM tickets WHERE tickets.id = assignments.ticket_id),"
               " offered_at = assigned_at")
    op.execute("UPDATE assignments SET status = CASE outcome WHEN 'declined' THEN 'declined'"
               " WHEN 'timeout' THEN 'timed_out' WHEN 'withdrawn' THEN 'withdrawn' WHEN 'resolved' THEN 'done'"
               " ELSE 'withdrawn' END WHERE ended_at IS NOT NULL")
    op.execute("UPDATE assignments SET status = COALESCE((SELECT CASE tickets.status WHEN 'accepted' THEN 'accepted'"
               " WHEN 'on_site' THEN 'on_site' ELSE 'offered' END FROM tickets WHERE tickets.id = assignments.ticket_id),"
               " 'offered') WHERE ended_at IS NULL")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('playbooks', sa.JSON(), nullable=True))
    op.create_table('ticket_cycles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('started_at', _T, nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('accept_by', _T, nullable=False),
    sa.Column('arrive_by', _T, nullable=True),
    sa.Column('resolve_by', _T, nullable=False),
    sa.Column('accepted_at', _T, nullable=True),
    sa.Column('arrived_at', _T, nullable=True),
    sa.Column('resolved_at', _T, nullable=True),
    sa.Column('closed_at', _T, nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('reopened_at', _T, nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ticket_cycles_ticket_id', 'ticket_cycles', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_cycles_ticket_id', table_name='ticket_cycles')
    op.drop_table('ticket_cycles')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('playbooks')
        batch_op.drop_column('cycle')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_status')
        for column in ('note', 'done_at', 'arrived_at', 'accepted_at', 'accept_by', 'offered_at', 'cycle', 'status',
                       'role', 'trade'):
            batch_op.drop_column(column)
