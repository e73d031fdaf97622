"""re-upload after purge

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

A case holds given bytes once among its live documents only: a purged document keeps its row
(a tombstone with the SHA-256) and must not stop the same file from being sent again.
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_documents_case_sha256', type_='unique')
        batch_op.create_index('uq_documents_case_sha256_live', ['case_id', 'sha256'], unique=True,
                              sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('uq_documents_case_sha256_live')
        batch_op.create_unique_constraint('uq_documents_case_sha256', ['case_id', 'sha256'])
