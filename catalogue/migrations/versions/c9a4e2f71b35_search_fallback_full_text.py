"""search answers from the database when no index generation can be read: facet values and full text of stored documents

Revision ID: c9a4e2f71b35
Revises: c7e3a5d19b42
Create Date: 2026-11-28 14:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

from catalogue.search.stored import SQLITE_FULL_TEXT, WORDS


# revision identifiers, used by Alembic.
revision = 'c9a4e2f71b35'
down_revision = 'c7e3a5d19b42'
branch_labels = None
depends_on = None


# The facet values of rows stored before this are empty until the next `search rebuild` (or the item's next change).
def upgrade():
    with op.batch_alter_table('search_document') as batch_op:
        batch_op.add_column(sa.Column('facets', sa.Text(), server_default='', nullable=False))
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_FULL_TEXT:
            op.execute(statement)
        op.execute("INSERT INTO search_document_fts(search_document_fts) VALUES ('rebuild')")
    else:
        op.execute(f"CREATE INDEX ix_search_document_words ON search_document USING gin (({WORDS}))")


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER IF EXISTS search_document_fts_{name}")
        op.execute("DROP TABLE IF EXISTS search_document_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_document_words")
    with op.batch_alter_table('search_document') as batch_op:
        batch_op.drop_column('facets')
