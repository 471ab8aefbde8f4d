"""privacy: mark appointments whose personal data was erased

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:21:51.326677

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch rebuild of "appointment" would drop the SQLite triggers.
    op.add_column('appointment', sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # SQLite >= 3.35 drops a column in place; the triggers on the table stay.
    op.drop_column('appointment', 'purged_at')
