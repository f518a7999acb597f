"""said notes: the system's lines in a ticket's history and an alert's log kept as key + parameters

`ticket_history.note_said` and `alert_log.note_said` (JSON, nullable) hold the catalogue key and parameters of
a line the service wrote itself (caretaker/i18n/stored.py), so the API says it in the reader's language;
`note` keeps the English text (search, figures, logs). Rows written before stay as they are: no key, their
note shown as stored (docs/operators.md, "Languages").

Revision ID: 0013_said_notes
Revises: 0012_alert_ticket_link
Create Date: 2026-12-03 06:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_said_notes'
down_revision = '0012_alert_ticket_link'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_said', sa.JSON(), nullable=True))
    with op.batch_alter_table('alert_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_said', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alert_log', schema=None) as batch_op:
        batch_op.drop_column('note_said')
    with op.batch_alter_table('ticket_history', schema=None) as batch_op:
        batch_op.drop_column('note_said')
