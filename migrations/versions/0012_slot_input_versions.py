"""versions for cached slot inputs: per service (appointments) and one for the schedule

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 23:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch rebuild would drop "service" under its foreign keys.
    op.add_column('service', sa.Column('slots_version', sa.Integer(), server_default=sa.text('0'), nullable=False))
    version = op.create_table(
        'schedule_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_version')),
    )
    op.bulk_insert(version, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('schedule_version')
    op.drop_column('service', 'slots_version')
