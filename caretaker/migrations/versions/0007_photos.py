"""photos: close-out photos uploaded by the technician's app

Revision ID: 0007_photos
Revises: 0006
Create Date: 2026-12-01 21:30:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0007_photos'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_photos',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_photos_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_photos_ticket_id'))
    op.drop_table('api_photos')
