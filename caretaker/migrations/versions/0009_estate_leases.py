"""estate leases: which instance ingests which estate, under which generation, until when

Revision ID: 0009_estate_leases
Revises: 0008
Create Date: 2026-12-02 04:40:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0009_estate_leases'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('estate_leases',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('taken_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site')
    )


def downgrade() -> None:
    op.drop_table('estate_leases')
