"""share links may expire (share_token.expires_at)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("share_token", sa.Column("expires_at", sa.DateTime(timezone=True),
                                           nullable=True))


def downgrade() -> None:
    op.drop_column("share_token", "expires_at")
