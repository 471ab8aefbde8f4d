"""appointment.cancelled_by_family: who cancelled, kept for the statistics after purges

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch rebuild would drop "appointment" under its foreign keys.
    op.add_column('appointment', sa.Column('cancelled_by_family', sa.Boolean(), nullable=True))
    # Earlier cancellations: the edit log says who cancelled.
    op.execute(
        "UPDATE appointment SET cancelled_by_family = EXISTS ("
        "SELECT 1 FROM appointment_event WHERE appointment_event.appointment_id = appointment.id"
        " AND appointment_event.action = 'cancelled_by_family') WHERE status = 'cancelled'"
    )


def downgrade():
    op.drop_column('appointment', 'cancelled_by_family')
