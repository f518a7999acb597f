"""alert ticket link: an alert's ticket is stored once, in ticket_alerts (docs/api.md, "Alerts")

The alerts table kept a copy of the link in `alerts.ticket_id`, written beside the ticket_alerts row; the
copy goes. Links only the copy held are moved into ticket_alerts first (attached at the alert's raise), and
an index on ticket_alerts.alert_id serves the alerts' reads of their ticket.

Revision ID: 0012_alert_ticket_link
Revises: 0011
Create Date: 2026-12-02 07:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_alert_ticket_link'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO ticket_alerts (ticket_id, alert_id, attached_at) "
        "SELECT a.ticket_id, a.id, a.raised_at FROM alerts a "
        "WHERE a.ticket_id IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM tickets t WHERE t.id = a.ticket_id) "
        "AND NOT EXISTS (SELECT 1 FROM ticket_alerts l WHERE l.ticket_id = a.ticket_id AND l.alert_id = a.id)"
    )
    op.create_index('ix_ticket_alerts_alert', 'ticket_alerts', ['alert_id'])
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('ticket_id')


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_id', sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE alerts SET ticket_id = (SELECT l.ticket_id FROM ticket_alerts l WHERE l.alert_id = alerts.id "
        "ORDER BY l.attached_at, l.ticket_id LIMIT 1)"
    )
    op.drop_index('ix_ticket_alerts_alert', table_name='ticket_alerts')
