"""entry model unit: the unit an STL or OBJ model's numbers are in, chosen by the author

Revision ID: d4e8b1c2f9a7
Revises: c7d2a91f4b30
Create Date: 2026-11-28 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8b1c2f9a7'
down_revision = 'c7d2a91f4b30'
branch_labels = None
depends_on = None


# Plain ADD COLUMN, not batch mode (see afb01f5ada36). Existing entries keep millimetres, as before.
def upgrade():
    op.add_column('entry', sa.Column('model_unit', sa.String(length=10), server_default='mm', nullable=False))


def downgrade():
    op.drop_column('entry', 'model_unit')
