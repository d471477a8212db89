"""jobs are leased (a worker's lease token and expiry) and projects take turns (job_turn);
indexes for reclaiming, quotas and purging

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_turn",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("last_claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_job_turn")),
    )
    op.add_column("job", sa.Column("lease_token", sa.String(length=32), nullable=True))
    op.add_column("job", sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    # jobs left running by workers of the previous version are taken up again at once
    op.execute("UPDATE job SET lease_expires_at = now() WHERE status = 'running'")
    op.create_index("ix_job_lease_expires_at", "job", ["lease_expires_at"],
                    postgresql_where="status = 'running'")
    op.create_index("ix_job_finished_at", "job", ["finished_at"],
                    postgresql_where="status IN ('done', 'failed')")
    op.create_index("ix_job_project_id_task_active", "job", ["project_id", "task"],
                    postgresql_where="status IN ('queued', 'running')")


def downgrade() -> None:
    op.drop_index("ix_job_project_id_task_active", table_name="job",
                  postgresql_where="status IN ('queued', 'running')")
    op.drop_index("ix_job_finished_at", table_name="job",
                  postgresql_where="status IN ('done', 'failed')")
    op.drop_index("ix_job_lease_expires_at", table_name="job",
                  postgresql_where="status = 'running'")
    op.drop_column("job", "lease_expires_at")
    op.drop_column("job", "lease_token")
    op.drop_table("job_turn")
