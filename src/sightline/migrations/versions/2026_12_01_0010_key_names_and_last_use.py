"""api keys get a name and the time they were last used (written at most once a minute)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_key", sa.Column("name", sa.String(length=64), server_default="",
                                       nullable=False))
    op.add_column("api_key", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("api_key", "last_used_at")
    op.drop_column("api_key", "name")
