"""an index the gallery reads a page from, group by group (nomination, age category), by title

Revision ID: f2b7d4a8c615
Revises: e5a1c3d7b902
Create Date: 2026-11-28 11:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2b7d4a8c615'
down_revision = 'e5a1c3d7b902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_entry_gallery',
        'entry',
        ['season_id', 'status', 'nomination_id', 'age_category_id', 'title', 'id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_entry_gallery', table_name='entry')
