"""the administrator's choice of award, saved a page at a time before the results are confirmed

Revision ID: e5a1c3d7b902
Revises: d4e8b2c6a913
Create Date: 2026-11-28 11:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5a1c3d7b902'
down_revision = 'd4e8b2c6a913'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('entry', sa.Column('award_override', sa.String(length=20), nullable=True))


def downgrade():
    op.drop_column('entry', 'award_override')
