"""rollups gain the source_referrer dimension: every built day is rebuilt

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:40:00
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Stale days are computed from the base tables until the worker has rebuilt them.
    op.execute("UPDATE rollup_state SET version = version + 1")
    op.execute("""
        INSERT INTO job (project_id, task, payload, status, attempts)
        SELECT DISTINCT project_id, 'rollups.build', '{}'::jsonb, 'queued', 0 FROM rollup_state
    """)


def downgrade() -> None:
    op.execute("UPDATE rollup_state SET version = version + 1")
