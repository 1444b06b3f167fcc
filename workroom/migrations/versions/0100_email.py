"""email bridge tables: room tags, reply tokens, outbox, inbound mail

Revision ID: 0100_email
Revises: 0001_core
Create Date: 2026-11-21 05:48:54.411061
"""
from alembic import op
import sqlalchemy as sa
import workroom.db.base


revision = '0100_email'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('email_inbound',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('peer', sa.String(length=100), nullable=False),
    sa.Column('mail_from', sa.String(length=320), nullable=False),
    sa.Column('rcpt_to', sa.Text(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('next_attempt_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=500), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('from_address', sa.String(length=320), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('room_id', sa.String(length=64), nullable=True),
    sa.Column('event_seq', sa.Integer(), nullable=True),
    sa.Column('processed_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_inbound'))
    )
    with op.batch_alter_table('email_inbound', schema=None) as batch_op:
        batch_op.create_index('ix_email_inbound_fingerprint', ['fingerprint'], unique=False)
        batch_op.create_index('ix_email_inbound_message_id', ['message_id'], unique=False)
        batch_op.create_index('ix_email_inbound_pending', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_email_inbound_sender_outcome', ['from_address', 'outcome'], unique=False)

    op.create_table('email_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=True),
    sa.Column('event_seq', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('body_text', sa.Text(), nullable=True),
    sa.Column('in_reply_to', sa.String(length=500), nullable=True),
    sa.Column('created_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('next_attempt_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_outbox'))
    )
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_email_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_outbox_room_id'), ['room_id'], unique=False)

    op.create_table('email_reply_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('sealed', sa.String(length=200), nullable=False),
    sa.Column('created_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_email_reply_tokens_account_id_accounts')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_email_reply_tokens_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_reply_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_reply_tokens_token_hash'))
    )
    with op.batch_alter_table('email_reply_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_email_reply_tokens_member', ['room_id', 'account_id'], unique=False)

    op.create_table('email_room_tags',
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_email_room_tags_room_id_rooms')),
    sa.PrimaryKeyConstraint('room_id', name=op.f('pk_email_room_tags')),
    sa.UniqueConstraint('tag', name=op.f('uq_email_room_tags_tag'))
    )


def downgrade() -> None:
    op.drop_table('email_room_tags')
    with op.batch_alter_table('email_reply_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_email_reply_tokens_member')

    op.drop_table('email_reply_tokens')
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_outbox_room_id'))
        batch_op.drop_index('ix_email_outbox_due')

    op.drop_table('email_outbox')
    with op.batch_alter_table('email_inbound', schema=None) as batch_op:
        batch_op.drop_index('ix_email_inbound_sender_outcome')
        batch_op.drop_index('ix_email_inbound_pending')
        batch_op.drop_index('ix_email_inbound_message_id')
        batch_op.drop_index('ix_email_inbound_fingerprint')

    op.drop_table('email_inbound')
