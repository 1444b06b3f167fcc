"""drop three indexes that cost every insert and serve no query another index does not

- `ix_ledger_entries_room_id` and `ix_members_room_id`: the unique (room_id, key) and
  (room_id, account_id) indexes lead with room_id and serve the same lookups.
- `ix_events_room_type`: events are the most frequent insert, and (room_id, type) served one rare
  lookup (the job's cancellation, for the feedback window), which the primary key (room_id, seq)
  serves by reading the room's events from the newest.

Revision ID: 0004_fewer_indexes
Revises: 0003_lifecycle
Create Date: 2026-11-21 15:20:00
"""
from alembic import op


revision = '0004_fewer_indexes'
down_revision = '0003_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_room_id'))
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_room_id'))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_room_type')


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_room_type', ['room_id', 'type'], unique=False)
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_room_id'), ['room_id'], unique=False)
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_room_id'), ['room_id'], unique=False)
