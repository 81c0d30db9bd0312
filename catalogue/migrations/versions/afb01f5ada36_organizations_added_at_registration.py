"""organizations added at registration

Revision ID: afb01f5ada36
Revises: 912813fb2208
Create Date: 2026-11-26 13:45:36.760304

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'afb01f5ada36'
down_revision = '912813fb2208'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not batch mode: SQLite adds a NOT NULL column with a constant default in
# place, whereas a batch copy of the table would have to drop a table other rows refer to.
def upgrade():
    op.add_column('organization', sa.Column('confirmed', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_index(op.f('ix_organization_confirmed'), 'organization', ['confirmed'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_organization_confirmed'), table_name='organization')
    op.drop_column('organization', 'confirmed')
