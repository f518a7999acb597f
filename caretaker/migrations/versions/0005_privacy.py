"""privacy: further reporters of a ticket, token expiry and last use, an append-only audit

Revision ID: 0005_privacy
Revises: 0004
Create Date: 2026-12-01 20:50:00
"""
from alembic import op
import sqlalchemy as sa
import caretaker.estate.clock


revision = '0005_privacy'
down_revision = '0004'
branch_labels = None
depends_on = None

_REFUSE = "the audit of personal-data reads is append-only"


def upgrade() -> None:
    op.create_table('ticket_reporters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_reporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_reporters_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', caretaker.estate.clock.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replaced_by', sa.String(length=64), nullable=True))

    # the audit is evidence: the application's own login can add rows but never change or remove one
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION api_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_REFUSE}' USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("CREATE TRIGGER api_audit_append_only BEFORE UPDATE OR DELETE ON api_audit "
                   "FOR EACH ROW EXECUTE FUNCTION api_audit_refuse()")
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER api_audit_no_{verb.lower()} BEFORE {verb} ON api_audit "
                       f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS api_audit_append_only ON api_audit")
        op.execute("DROP FUNCTION IF EXISTS api_audit_refuse()")
    else:
        op.execute("DROP TRIGGER IF EXISTS api_audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS api_audit_no_delete")

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('replaced_by')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('ticket_reporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_reporters_ticket_id'))

    op.drop_table('ticket_reporters')
