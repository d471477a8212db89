"""projects gain a public site_id and allowed origins; daily salts for browser visitor ids

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("project", sa.Column("site_id", sa.String(32), nullable=True))
    op.add_column("project", sa.Column(
        "allowed_origins", postgresql.ARRAY(sa.Text()),
        server_default=sa.text("'{}'::text[]"), nullable=False))
    op.execute("UPDATE project SET site_id = 's_' || substr(md5(random()::text || id), 1, 12)")
    op.alter_column("project", "site_id", nullable=False)
    op.create_unique_constraint("uq_project_site_id", "project", ["site_id"])
    op.create_table(
        "salt",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_salt"),
    )


def downgrade() -> None:
    op.drop_table("salt")
    op.drop_constraint("uq_project_site_id", "project", type_="unique")
    op.drop_column("project", "allowed_origins")
    op.drop_column("project", "site_id")
