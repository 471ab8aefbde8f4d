"""contact-key indexes only over appointments that still have a key (erased ones have none)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 00:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEYS = ("email_key", "phone_key")


def upgrade():
    for key in KEYS:
        op.drop_index(f"ix_appointment_{key}", table_name="appointment")
        op.create_index(
            f"ix_appointment_{key}",
            "appointment",
            [key],
            sqlite_where=sa.text(f"{key} IS NOT NULL"),
            postgresql_where=sa.text(f"{key} IS NOT NULL"),
        )


def downgrade():
    for key in KEYS:
        op.drop_index(f"ix_appointment_{key}", table_name="appointment")
        op.create_index(f"ix_appointment_{key}", "appointment", [key])
