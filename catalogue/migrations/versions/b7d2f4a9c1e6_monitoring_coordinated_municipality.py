"""the municipality a municipal coordinator coordinates (/monitoring/)

Revision ID: b7d2f4a9c1e6
Revises: b3d5f7a9c1e2
Create Date: 2026-11-28 13:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d2f4a9c1e6'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'coordinated_municipality',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_coordinated_municipality_municipality_id_municipality')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_coordinated_municipality_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_coordinated_municipality')),
    )
    with op.batch_alter_table('coordinated_municipality', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordinated_municipality_municipality_id'), ['municipality_id'], unique=False)


def downgrade():
    with op.batch_alter_table('coordinated_municipality', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coordinated_municipality_municipality_id'))
    op.drop_table('coordinated_municipality')
