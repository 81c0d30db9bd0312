"""subscriptions to any search or filtered list, with their digests' watermark and period

Revision ID: b7e2c5d8a104
Revises: b7d2f4a9c1e6
Create Date: 2026-11-28 13:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e2c5d8a104'
down_revision = 'b7d2f4a9c1e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('query', sa.String(length=1000), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('frequency', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('watermark', sa.DateTime(), nullable=False),
        sa.Column('last_period', sa.String(length=10), nullable=True),
        sa.Column('last_sent_at', sa.DateTime(), nullable=True),
        sa.Column('unsubscribed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_subscription_user_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription')),
        sa.UniqueConstraint('user_id', 'kind', 'query', name='uq_subscription_user_list'),
    )
    op.create_index('ix_subscription_due', 'subscription', ['frequency', 'last_period', 'id'], unique=False)
    op.create_index('ix_subscription_user_created', 'subscription', ['user_id', 'created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_subscription_user_created', table_name='subscription')
    op.drop_index('ix_subscription_due', table_name='subscription')
    op.drop_table('subscription')
