"""visitor numbers and daily rollups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:41:57.397801
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("visitor_num_seq")))
    op.create_table('rollup_day',
    sa.Column('project_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sa.String(length=140), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('pageviews', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=24, scale=6), nullable=True),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('event_visitors', sa.LargeBinary(), nullable=True),
    sa.Column('paying_visitors', sa.LargeBinary(), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('bounces', sa.Integer(), nullable=False),
    sa.Column('duration', sa.Numeric(precision=24, scale=6), nullable=True),
    sa.Column('session_pageviews', sa.Integer(), nullable=False),
    sa.Column('session_visitors', sa.LargeBinary(), nullable=True),
    sa.Column('exit_pageviews', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'day', 'dimension', 'value', name=op.f('pk_rollup_day'))
    )
    op.create_table('rollup_state',
    sa.Column('project_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('built_version', sa.BigInteger(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('project_id', 'day', name=op.f('pk_rollup_state'))
    )
    op.create_table('visitor',
    sa.Column('project_id', sa.String(length=32), nullable=False),
    sa.Column('visitor_key', sa.BigInteger(), nullable=False),
    sa.Column('num', sa.Integer(), server_default=sa.text("nextval('visitor_num_seq')"), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'visitor_key', name=op.f('pk_visitor'))
    )



def downgrade() -> None:
    op.drop_table('visitor')
    op.drop_table('rollup_state')
    op.drop_table('rollup_day')
    op.execute(sa.schema.DropSequence(sa.Sequence("visitor_num_seq")))
