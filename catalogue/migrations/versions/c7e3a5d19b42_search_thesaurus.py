"""search thesaurus: groups of related words applied at query time, loaded from the packaged data file

Revision ID: c7e3a5d19b42
Revises: b7e2c5d8a104
Create Date: 2026-11-28 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from catalogue.search.thesaurus import data_file_rows

# revision identifiers, used by Alembic.
revision = 'c7e3a5d19b42'
down_revision = 'b7e2c5d8a104'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'synonym_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.Column('sort_key', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('signature'),
    )
    op.create_index(op.f('ix_synonym_group_sort_key'), 'synonym_group', ['sort_key'], unique=False)
    # The groups every installation starts with; administrators edit them afterwards.
    op.bulk_insert(table, data_file_rows())


def downgrade():
    op.drop_index(op.f('ix_synonym_group_sort_key'), table_name='synonym_group')
    op.drop_table('synonym_group')
