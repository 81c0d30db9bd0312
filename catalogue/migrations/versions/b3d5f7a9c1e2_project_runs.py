"""«Взять в работу»: the classes that run a typical project (project_run)

Revision ID: b3d5f7a9c1e2
Revises: c5d1e7a3b208
Create Date: 2026-11-28 13:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e2'
down_revision = 'c5d1e7a3b208'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'project_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('class_label', sa.String(length=20), nullable=False),
        sa.Column('class_key', sa.String(length=20), nullable=False),
        sa.Column('grade', sa.Integer(), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('pupils', sa.Integer(), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('reminded_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id']),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id']),
        sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['report_id'], ['project_report.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['teacher_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'organization_id', 'class_key', name='uq_project_run_class'),
        sa.UniqueConstraint('report_id'),
    )
    op.create_index('ix_project_run_project_municipality', 'project_run', ['project_id', 'municipality_id'])
    op.create_index('ix_project_run_teacher_started', 'project_run', ['teacher_id', 'started_on', 'id'])
    op.create_index('ix_project_run_due', 'project_run', ['reminded_at', 'report_id', 'due_on'])
    op.create_index(op.f('ix_project_run_organization_id'), 'project_run', ['organization_id'])
    op.create_index(op.f('ix_project_run_municipality_id'), 'project_run', ['municipality_id'])
    op.create_index(op.f('ix_project_run_grade'), 'project_run', ['grade'])
    op.create_index(op.f('ix_project_run_started_on'), 'project_run', ['started_on'])


def downgrade():
    op.drop_table('project_run')
