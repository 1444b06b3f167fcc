"""billing: ledger, gateway payments, terms proposals, dormancy watch, hourly diary and invoices, cancellations

Revision ID: 0002_billing
Revises: 0001_core
Create Date: 2026-11-21 05:49:17.429988
"""
from alembic import op
import sqlalchemy as sa
import workroom.db.base


revision = '0002_billing'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cancellations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('requester_id', sa.String(length=64), nullable=False),
    sa.Column('requester_role', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('refund', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_cancellations_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cancellations'))
    )
    with op.batch_alter_table('cancellations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cancellations_room_id'), ['room_id'], unique=False)

    op.create_table('escrow_watch',
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('last_activity_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('stage_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_escrow_watch_room_id_rooms')),
    sa.PrimaryKeyConstraint('room_id', name=op.f('pk_escrow_watch'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=True),
    sa.Column('period_start', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('period_end', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('billable_seconds', sa.Integer(), nullable=False),
    sa.Column('disputed_seconds', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('paid_amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('dispute_reason', sa.Text(), nullable=True),
    sa.Column('created_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_invoices_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_room_id'), ['room_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=True),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_ledger_entries_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('room_id', 'key', name=op.f('uq_ledger_entries_room_id_key'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_room_id'), ['room_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gateway_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_payments_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_room_id'), ['room_id'], unique=False)

    op.create_table('terms_proposals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('proposer_id', sa.String(length=64), nullable=False),
    sa.Column('proposer_role', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_terms_proposals_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_proposals'))
    )
    with op.batch_alter_table('terms_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terms_proposals_room_id'), ['room_id'], unique=False)

    op.create_table('work_segments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('start', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.Column('snapshots', sa.JSON(), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_work_segments_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_segments'))
    )
    with op.batch_alter_table('work_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_segments_room_id'), ['room_id'], unique=False)

    op.create_table('ledger_postings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_ledger_postings_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_postings'))
    )
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_postings_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_ledger_postings_room_account', ['room_id', 'account'], unique=False)

    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funded_amount', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('released_amount', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('refunded_amount', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('release_requests', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('release_requested_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('overdue', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('invoice_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('disputed_from', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('payment_id', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_column('payment_id')
        batch_op.drop_column('disputed_from')
        batch_op.drop_column('invoice_id')
        batch_op.drop_column('overdue')
        batch_op.drop_column('release_requested_at')
        batch_op.drop_column('release_requests')
        batch_op.drop_column('refunded_amount')
        batch_op.drop_column('released_amount')
        batch_op.drop_column('funded_amount')

    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_postings_room_account')
        batch_op.drop_index(batch_op.f('ix_ledger_postings_entry_id'))

    op.drop_table('ledger_postings')
    with op.batch_alter_table('work_segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_segments_room_id'))

    op.drop_table('work_segments')
    with op.batch_alter_table('terms_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terms_proposals_room_id'))

    op.drop_table('terms_proposals')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_room_id'))

    op.drop_table('payments')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_room_id'))

    op.drop_table('ledger_entries')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_room_id'))

    op.drop_table('invoices')
    op.drop_table('escrow_watch')
    with op.batch_alter_table('cancellations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cancellations_room_id'))

    op.drop_table('cancellations')
