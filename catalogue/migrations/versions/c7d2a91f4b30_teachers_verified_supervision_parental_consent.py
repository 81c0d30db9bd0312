"""teachers verified, supervision accepted by students, parental consent confirmed by parents

Revision ID: c7d2a91f4b30
Revises: c3f7a9e41d20
Create Date: 2026-11-28 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d2a91f4b30'
down_revision = 'c3f7a9e41d20'
branch_labels = None
depends_on = None


# Plain ADD COLUMN, not batch mode (see afb01f5ada36). Teachers and entries that exist already were made
# under the old rules by people the site knew: they count as verified and accepted, and every existing
# supervisor as accepted by the student.
def upgrade():
    op.add_column('user', sa.Column('verified_at', sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # With its REFERENCES clause inline: SQLite adds such a column in place, but no constraint later.
        op.execute('ALTER TABLE "user" ADD COLUMN verified_by_id INTEGER REFERENCES "user" (id)')
    else:
        op.add_column('user', sa.Column('verified_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_user_verified_by_id_user', 'user', 'user', ['verified_by_id'], ['id'])
    op.execute(
        'UPDATE "user" SET verified_at = created_at '
        "WHERE id IN (SELECT user_id FROM user_role WHERE role = 'teacher')"
    )
    op.add_column('entry', sa.Column('accepted_at', sa.DateTime(), nullable=True))
    op.execute('UPDATE entry SET accepted_at = created_at')
    op.create_table(
        'supervision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['student_id'], ['user.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['teacher_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('teacher_id', 'student_id'),
    )
    op.create_index(op.f('ix_supervision_student_id'), 'supervision', ['student_id'], unique=False)
    op.create_index(op.f('ix_supervision_teacher_id'), 'supervision', ['teacher_id'], unique=False)
    op.execute(
        "INSERT INTO supervision (teacher_id, student_id, status, requested_at, decided_at) "
        "SELECT supervisor_id, author_id, 'accepted', MIN(created_at), MIN(created_at) FROM entry "
        "WHERE supervisor_id IS NOT NULL GROUP BY supervisor_id, author_id"
    )
    op.create_table(
        'parental_consent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('giver', sa.String(length=20), nullable=False),
        sa.Column('parent_name', sa.String(length=200), nullable=False),
        sa.Column('parent_email', sa.String(length=254), nullable=False),
        sa.Column('text_version', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_address', sa.String(length=64), nullable=False),
        sa.Column('checked_by_id', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('scan_file_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['checked_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['scan_file_id'], ['stored_file.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_parental_consent_entry_id'), 'parental_consent', ['entry_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_parental_consent_entry_id'), table_name='parental_consent')
    op.drop_table('parental_consent')
    op.drop_index(op.f('ix_supervision_teacher_id'), table_name='supervision')
    op.drop_index(op.f('ix_supervision_student_id'), table_name='supervision')
    op.drop_table('supervision')
    op.drop_column('entry', 'accepted_at')
    if op.get_bind().dialect.name != 'sqlite':  # SQLite drops the column with its inline reference
        op.drop_constraint('fk_user_verified_by_id_user', 'user', type_='foreignkey')
    op.drop_column('user', 'verified_by_id')
    op.drop_column('user', 'verified_at')
