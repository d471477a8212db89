"""visitor numbers on events and sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:50:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("event", sa.Column("visitor_num", sa.Integer(), nullable=True))
    op.add_column("session", sa.Column("visitor_num", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("session", "visitor_num")
    op.drop_column("event", "visitor_num")
