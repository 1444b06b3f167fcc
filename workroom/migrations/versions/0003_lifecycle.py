"""lifecycle, feedback and support: feedback, feedback requests, private comments, support cases, case approvals

Revision ID: 0003_lifecycle
Revises: 0002_billing, 0100_email (a merge point: one head)
Create Date: 2026-11-21 05:51:15.144566
"""
from alembic import op
import sqlalchemy as sa
import workroom.db.base


revision = '0003_lifecycle'
down_revision = ('0002_billing', '0100_email')
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.String(length=64), nullable=False),
    sa.Column('author_role', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('hide_job_details', sa.Boolean(), nullable=False),
    sa.Column('given_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_feedback_author_id_accounts')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_feedback_room_id_rooms')),
    sa.ForeignKeyConstraint(['subject_id'], ['accounts.id'], name=op.f('fk_feedback_subject_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('uq_feedback_final_per_author', ['room_id', 'author_id'], unique=True, sqlite_where=sa.text("kind = 'final'"), postgresql_where=sa.text("kind = 'final'"))

    op.create_table('feedback_requests',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('requester_id', sa.String(length=64), nullable=False),
    sa.Column('requested_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('feedback_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['requester_id'], ['accounts.id'], name=op.f('fk_feedback_requests_requester_id_accounts')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_feedback_requests_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_requests'))
    )
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_requests_room_id'), ['room_id'], unique=False)

    op.create_table('private_comments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.String(length=64), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_private_comments_author_id_accounts')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_private_comments_room_id_rooms')),
    sa.ForeignKeyConstraint(['subject_id'], ['accounts.id'], name=op.f('fk_private_comments_subject_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_private_comments'))
    )
    with op.batch_alter_table('private_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_private_comments_room_id'), ['room_id'], unique=False)

    op.create_table('support_cases',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('complaint', sa.Text(), nullable=False),
    sa.Column('wants', sa.Text(), nullable=False),
    sa.Column('disputed_amount', sa.Integer(), nullable=False),
    sa.Column('research', sa.JSON(), nullable=False),
    sa.Column('opened_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outreach_party_id', sa.String(length=64), nullable=True),
    sa.Column('outreach_state', sa.String(length=16), nullable=False),
    sa.Column('outreach_attempts', sa.Integer(), nullable=False),
    sa.Column('outreach_started_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('credits_granted', sa.Integer(), nullable=False),
    sa.Column('ended_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['accounts.id'], name=op.f('fk_support_cases_agent_id_accounts')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_support_cases_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_cases'))
    )
    with op.batch_alter_table('support_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_cases_room_id'), ['room_id'], unique=False)

    op.create_table('case_approvals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('what', sa.String(length=32), nullable=False),
    sa.Column('approver_id', sa.String(length=64), nullable=False),
    sa.Column('approved_at', workroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('party_role', sa.String(length=16), nullable=True),
    sa.Column('used_at', workroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['accounts.id'], name=op.f('fk_case_approvals_approver_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['support_cases.id'], name=op.f('fk_case_approvals_case_id_support_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_approvals'))
    )
    with op.batch_alter_table('case_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_approvals_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_approvals_case_id'))

    op.drop_table('case_approvals')
    with op.batch_alter_table('support_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_cases_room_id'))

    op.drop_table('support_cases')
    with op.batch_alter_table('private_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_private_comments_room_id'))

    op.drop_table('private_comments')
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_requests_room_id'))

    op.drop_table('feedback_requests')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('uq_feedback_final_per_author', sqlite_where=sa.text("kind = 'final'"), postgresql_where=sa.text("kind = 'final'"))
        batch_op.drop_index(batch_op.f('ix_feedback_subject_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_room_id'))

    op.drop_table('feedback')
