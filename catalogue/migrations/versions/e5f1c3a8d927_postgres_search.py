"""search in PostgreSQL (SEARCH_BACKEND=postgresql): indexed documents as tsvectors, the dictionary with pg_trgm

Revision ID: e5f1c3a8d927
Revises: b7d2e9a4c1f0
Create Date: 2026-11-28 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from catalogue.search.postgres_backend import TRIGRAM_EXTENSION, TRIGRAM_INDEX, trigram_ops


# revision identifiers, used by Alembic.
revision = 'e5f1c3a8d927'
down_revision = 'b7d2e9a4c1f0'
branch_labels = None
depends_on = None


# The tables exist on SQLite too (empty: that engine is PostgreSQL's only). After upgrading a site that switches to
# SEARCH_BACKEND=postgresql, the first sync builds the index (or run `flask --app catalogue search rebuild`).
def upgrade():
    bind = op.get_bind()
    op.create_table(
        'search_engine_entry',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('digest', sa.String(length=32), nullable=False),
        sa.Column('words', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
        sa.Column('facets', sa.Text().with_variant(postgresql.ARRAY(sa.Text()), 'postgresql'), nullable=False),
        sa.Column('date', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_search_engine_entry_date', 'search_engine_entry', ['date'], unique=False)
    op.create_index('ix_search_engine_entry_words', 'search_engine_entry', ['words'], unique=False,
                    postgresql_using='gin')
    op.create_index('ix_search_engine_entry_facets', 'search_engine_entry', ['facets'], unique=False,
                    postgresql_using='gin')
    op.create_table(
        'search_engine_word',
        sa.Column('word', sa.String(length=40), nullable=False),
        sa.Column('stem', sa.String(length=40), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('word'),
    )
    op.create_index('ix_search_engine_word_stem', 'search_engine_word', ['stem'], unique=False)
    op.create_table(
        'search_engine_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    if bind.dialect.name == 'postgresql':
        # A trusted extension: the database's owner may create it (Debian's postgresql package ships it).
        op.execute(TRIGRAM_EXTENSION)
        op.execute(TRIGRAM_INDEX.format(ops=trigram_ops(bind)))


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_search_engine_word_trigram")
    op.drop_table('search_engine_state')
    op.drop_index('ix_search_engine_word_stem', table_name='search_engine_word')
    op.drop_table('search_engine_word')
    op.drop_index('ix_search_engine_entry_facets', table_name='search_engine_entry')
    op.drop_index('ix_search_engine_entry_words', table_name='search_engine_entry')
    op.drop_index('ix_search_engine_entry_date', table_name='search_engine_entry')
    op.drop_table('search_engine_entry')
