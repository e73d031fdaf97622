"""form submissions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

The one-time ids of forms that create something (new case, portal message or upload) were kept in
each server process's memory, so behind several processes a double click could still do the work
twice. They are kept in the database now: one row per user and id, with the work's result.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'form_submissions',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('submission_id', sa.String(length=36), nullable=False),
        sa.Column('result', sa.String(length=200), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('user_id', 'submission_id'),
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_form_submissions_claimed_at', ['claimed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_form_submissions_claimed_at')
    op.drop_table('form_submissions')
