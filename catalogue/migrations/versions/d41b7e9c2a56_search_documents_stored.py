"""search documents stored beside the index: titles and plain texts for the search page's snippets

Revision ID: d41b7e9c2a56
Revises: d4e8b1c2f9a7
Create Date: 2026-11-28 10:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41b7e9c2a56'
down_revision = 'd4e8b1c2f9a7'
branch_labels = None
depends_on = None

# The content types' tables and their keys in the index (catalogue/<feature>/content.py).
INDEXED = (('project', 'project'), ('report', 'project_report'), ('practice', 'practice'), ('entry', 'entry'))


# Backfill: every published item goes into the search outbox, so the next `search sync` (or the first search,
# in one process) stores its document; until then the search page builds a missing one as before.
def upgrade():
    op.create_table(
        'search_document',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('date', sa.DateTime(), nullable=True),
        sa.Column('digest', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    for key, table in INDEXED:
        op.execute(
            f"INSERT INTO search_outbox (content_type, content_id, created_at) "
            f"SELECT '{key}', id, CURRENT_TIMESTAMP FROM {table} WHERE status = 'published'"
        )


def downgrade():
    op.drop_table('search_document')
