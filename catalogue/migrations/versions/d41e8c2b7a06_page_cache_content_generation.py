"""page cache: the content generation

Revision ID: d41e8c2b7a06
Revises: d41b7e9c2a56
Create Date: 2026-11-28 10:45:00.000000

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41e8c2b7a06'
down_revision = 'd41b7e9c2a56'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'content_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute(table.insert().values(id=1, value=0, changed_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))


def downgrade():
    op.drop_table('content_generation')
