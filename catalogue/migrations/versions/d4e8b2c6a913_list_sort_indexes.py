"""indexes of the lists' sort orders, so a deep page starts reading at its key

Revision ID: d4e8b2c6a913
Revises: d41e8c2b7a06
Create Date: 2026-11-28 10:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4e8b2c6a913'
down_revision = 'd41e8c2b7a06'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_project_status_published', table_name='project')
    op.create_index('ix_project_status_published', 'project', ['status', 'published_at', 'id'], unique=False)
    op.create_index('ix_project_status_title', 'project', ['status', 'title', 'id'], unique=False)
    op.drop_index('ix_practice_status_published', table_name='practice')
    op.create_index('ix_practice_status_published', 'practice', ['status', 'published_at', 'id'], unique=False)
    op.create_index('ix_user_created', 'user', ['created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_user_created', table_name='user')
    op.drop_index('ix_practice_status_published', table_name='practice')
    op.create_index('ix_practice_status_published', 'practice', ['status', 'published_at'], unique=False)
    op.drop_index('ix_project_status_title', table_name='project')
    op.drop_index('ix_project_status_published', table_name='project')
    op.create_index('ix_project_status_published', 'project', ['status', 'published_at'], unique=False)
