"""outbox_message.render_from: family messages are rendered when sent, not when queued

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.add_column(
            sa.Column("render_from", sa.String(length=200), nullable=True)
        )


def downgrade():
    # Only this version's sender renders waiting messages: the older one would send them empty.
    # They stay visible as failed (admins see which families were not told) instead of vanishing.
    op.execute(
        "UPDATE outbox_message SET status = 'failed', "
        "last_error = 'not rendered: the database was downgraded below 0021' "
        "WHERE render_from IS NOT NULL AND status IN ('pending', 'sending')"
    )
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_column("render_from")
