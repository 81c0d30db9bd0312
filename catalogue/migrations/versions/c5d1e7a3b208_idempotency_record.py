"""create forms' request tokens: which item each (person, token) made

Revision ID: c5d1e7a3b208
Revises: b3f7a1c9e042
Create Date: 2026-11-28 14:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5d1e7a3b208'
down_revision = 'b3f7a1c9e042'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotency_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('content_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_idempotency_record_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
        sa.UniqueConstraint('user_id', 'token', name='uq_idempotency_record_user_token'),
    )
    op.create_index('ix_idempotency_record_created_at', 'idempotency_record', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_idempotency_record_created_at', table_name='idempotency_record')
    op.drop_table('idempotency_record')
