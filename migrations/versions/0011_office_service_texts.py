"""office and service texts in the families' languages; directions to an office

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 23:45:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL (plain json has no equality), JSON (text) on SQLite.
TEXTS_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs: a batch rebuild would drop "service" and "office" under their keys.
    op.add_column('office', sa.Column('directions', sa.Text(), server_default=sa.text("''"), nullable=False))
    op.add_column('office', sa.Column('translations', TEXTS_JSON, server_default=sa.text("'{}'"), nullable=False))
    op.add_column('service', sa.Column('translations', TEXTS_JSON, server_default=sa.text("'{}'"), nullable=False))


def downgrade():
    # SQLite >= 3.35 drops a column in place.
    op.drop_column('service', 'translations')
    op.drop_column('office', 'translations')
    op.drop_column('office', 'directions')
