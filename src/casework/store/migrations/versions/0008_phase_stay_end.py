"""phase stay end

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Each phase-history row records when the case left that phase (``left_at``: the ``at`` of the
case's next row, written by the move that ends the stay), so the reports page sums the time
spent per phase from one row per stay instead of joining the history to itself. Existing
rows are filled in from the next row; an index on (left_at, to_phase, at, case_id) serves the
report's range of stay ends without reading the table.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('phase_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        'UPDATE phase_history SET left_at = ('
        'SELECT nxt.at FROM phase_history nxt '
        'WHERE nxt.case_id = phase_history.case_id AND nxt.seq = phase_history.seq + 1)'
    )
    with op.batch_alter_table('phase_history', schema=None) as batch_op:
        batch_op.create_index('ix_phase_history_left_at', ['left_at', 'to_phase', 'at', 'case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('phase_history', schema=None) as batch_op:
        batch_op.drop_index('ix_phase_history_left_at')
        batch_op.drop_column('left_at')
