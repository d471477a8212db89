"""visitor numbers are dense per project (no global sequence): 32-bit bitmaps stay valid however
many visitors all projects have together

Existing numbers (drawn from the global sequence, all below 2^31) stay as they are, so stored
rollup bitmaps remain valid; a project's new visitors take the numbers after its highest.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_unique_constraint(op.f("uq_visitor_project_id_num"), "visitor",
                                ["project_id", "num"])
    op.alter_column("visitor", "num", server_default=None)
    op.execute("DROP SEQUENCE visitor_num_seq")


def downgrade() -> None:
    op.execute("CREATE SEQUENCE visitor_num_seq")
    op.execute("SELECT setval('visitor_num_seq', coalesce(max(num), 0) + 1, false) FROM visitor")
    op.alter_column("visitor", "num", server_default=sa.text("nextval('visitor_num_seq')"))
    op.drop_constraint(op.f("uq_visitor_project_id_num"), "visitor", type_="unique")
