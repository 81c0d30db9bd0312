"""a practice's adoption count stored and indexed, so «чаще внедряют» pages start reading at their key

Revision ID: a9c4e6f1d283
Revises: f2b7d4a8c615
Create Date: 2026-11-28 11:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a9c4e6f1d283'
down_revision = 'f2b7d4a8c615'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('practice', sa.Column('adoption_count', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        'UPDATE practice SET adoption_count = '
        '(SELECT count(*) FROM practice_adoption WHERE practice_adoption.practice_id = practice.id)'
    )
    op.create_index(
        'ix_practice_status_adopted', 'practice', ['status', 'adoption_count', 'published_at', 'id'], unique=False
    )


def downgrade():
    op.drop_index('ix_practice_status_adopted', table_name='practice')
    op.drop_column('practice', 'adoption_count')
