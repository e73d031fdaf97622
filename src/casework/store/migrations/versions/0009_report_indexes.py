"""report indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

The reports page counts open cases by phase and priority, and closures and outcomes of a period,
over every case: two covering indexes let the database answer from the index alone.
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_open_kpi', ['phase', 'priority', 'status'], unique=False)
        batch_op.create_index('ix_cases_closed', ['closed_at', 'case_type', 'outcome'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_closed')
        batch_op.drop_index('ix_cases_open_kpi')
