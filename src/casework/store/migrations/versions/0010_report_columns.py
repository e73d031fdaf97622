"""report columns

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

The reports page computed, for every stay and SLA clock of a period, values that never change
once written: how long a stay lasted (two timestamps parsed per row on SQLite), whether a clock
was met and when it counts, and the case type of the clock's case (a join per clock). Over
100 000 cases those two aggregates took most of the page's time. They are now stored when the
row is written (``phase_history.stay_seconds``; ``sla_clocks.case_type``, ``met`` and
``settled_at``), filled in here for existing rows, and read from covering indexes: by period over
every case, by case (replacing the plain case_id indexes) for the cases a case worker may see. The
open cases by phase and priority index now starts with the status and ends with the team and
assignee, so a case worker's count is read from it too.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_MET = 'breached_at IS NULL AND stopped_at IS NOT NULL AND stopped_at <= due_at'


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('phase_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stay_seconds', sa.Integer(), nullable=True))
    if postgres:
        op.execute('UPDATE phase_history SET stay_seconds = floor(extract(epoch FROM left_at - at)) WHERE left_at IS NOT NULL')
    else:
        # Exactly as the application rounds (down to the second): whole seconds apart, less one when the
        # end's microseconds (stored as text, always six digits) are below the start's.
        op.execute(
            "UPDATE phase_history SET stay_seconds = "
            "(strftime('%s', left_at) - strftime('%s', at)) - (substr(left_at, 21, 6) < substr(at, 21, 6)) "
            "WHERE left_at IS NOT NULL"
        )
    with op.batch_alter_table('phase_history', schema=None) as batch_op:
        batch_op.drop_index('ix_phase_history_left_at')
        batch_op.create_index('ix_phase_history_stays', ['left_at', 'to_phase', 'stay_seconds', 'case_id'], unique=False)
        batch_op.drop_index('ix_phase_history_case_id')
        batch_op.create_index('ix_phase_history_case_stays', ['case_id', 'left_at', 'to_phase', 'stay_seconds'], unique=False)

    # NOT NULL from the start, with a placeholder default filled in right away: on SQLite, making a column
    # NOT NULL afterwards rebuilds the table, and dropping the old sla_clocks would break the foreign keys
    # of the sla_breaches that point at it (foreign keys are enforced during migrations).
    yes, no = ('true', 'false') if postgres else ('1', '0')
    op.add_column('sla_clocks', sa.Column('case_type', sa.String(length=64), nullable=False, server_default=''))
    op.add_column('sla_clocks', sa.Column('met', sa.Boolean(), nullable=False, server_default=sa.text(no)))
    op.add_column('sla_clocks', sa.Column('settled_at', sa.DateTime(timezone=True), nullable=False,
                                          server_default=sa.text("'1970-01-01 00:00:00'")))
    op.execute(
        'UPDATE sla_clocks SET '
        'case_type = (SELECT cases.case_type FROM cases WHERE cases.id = sla_clocks.case_id), '
        f'met = CASE WHEN {_MET} THEN {yes} ELSE {no} END, '
        f'settled_at = CASE WHEN {_MET} THEN stopped_at ELSE due_at END'
    )
    if postgres:  # the application always writes them (SQLite cannot drop a default without a rebuild)
        for column in ('case_type', 'met', 'settled_at'):
            op.alter_column('sla_clocks', column, server_default=None)
    op.create_index('ix_sla_clocks_settled', 'sla_clocks', ['settled_at', 'case_type', 'met', 'case_id'], unique=False)
    op.drop_index('ix_sla_clocks_case_id', table_name='sla_clocks')
    op.create_index('ix_sla_clocks_case', 'sla_clocks', ['case_id', 'settled_at', 'case_type', 'met'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_kpi')
        batch_op.create_index('ix_cases_open_kpi', ['status', 'phase', 'priority', 'team', 'assignee_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_kpi')
        batch_op.create_index('ix_cases_open_kpi', ['phase', 'priority', 'status'], unique=False)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), never a rebuild: see upgrade().
    op.drop_index('ix_sla_clocks_case', table_name='sla_clocks')
    op.create_index('ix_sla_clocks_case_id', 'sla_clocks', ['case_id'], unique=False)
    op.drop_index('ix_sla_clocks_settled', table_name='sla_clocks')
    for column in ('settled_at', 'met', 'case_type'):
        op.drop_column('sla_clocks', column)
    op.drop_index('ix_phase_history_case_stays', table_name='phase_history')
    op.create_index('ix_phase_history_case_id', 'phase_history', ['case_id'], unique=False)
    op.drop_index('ix_phase_history_stays', table_name='phase_history')
    op.create_index('ix_phase_history_left_at', 'phase_history', ['left_at', 'to_phase', 'at', 'case_id'], unique=False)
    op.drop_column('phase_history', 'stay_seconds')
