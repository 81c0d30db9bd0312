"""background jobs: the job table (kind, JSON arguments, idempotency key, state, attempts, back-off, lease)

Revision ID: b7d2e9a4c1f0
Revises: c9a4e2f71b35
Create Date: 2026-11-28 13:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d2e9a4c1f0'
down_revision = 'c9a4e2f71b35'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('queued', 'running')"


def upgrade():
    op.create_table(
        'job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('arguments', sa.Text(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('run_after', sa.DateTime(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('lease_token', sa.String(length=32), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'uq_job_active_key', 'job', ['key'], unique=True,
        sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE),
    )
    op.create_index('ix_job_state_run_after', 'job', ['state', 'run_after', 'id'], unique=False)
    op.create_index('ix_job_key_state', 'job', ['key', 'state', 'id'], unique=False)
    op.create_index('ix_job_created', 'job', ['created_at', 'id'], unique=False)


def downgrade():
    op.drop_table('job')
