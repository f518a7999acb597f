"""residents: supply cuts residents were told of, progress links (stored hashed)

Revision ID: 0007_residents
Revises: 0006
Create Date: 2026-12-01 21:30:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0007_residents'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resident_supply_cuts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('building', sa.String(length=64), nullable=False),
    sa.Column('supply', sa.String(length=16), nullable=False),
    sa.Column('since', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('alerts', sa.JSON(), nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=True),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('ended_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_resident_supply_cuts_open', 'resident_supply_cuts',
                    ['site', 'building', 'supply', 'ended_at'], unique=False)
    op.create_table('resident_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_resident_links_ticket_id', 'resident_links', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_resident_links_ticket_id', table_name='resident_links')
    op.drop_table('resident_links')
    op.drop_index('ix_resident_supply_cuts_open', table_name='resident_supply_cuts')
    op.drop_table('resident_supply_cuts')
