"""the API's request counters per client address and minute (its rate limit)

Revision ID: b3f7a1c9e042
Revises: a9c4e6f1d283
Create Date: 2026-11-28 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3f7a1c9e042'
down_revision = 'a9c4e6f1d283'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_request_count',
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('window', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('address', 'window', name=op.f('pk_api_request_count')),
    )


def downgrade():
    op.drop_table('api_request_count')
