"""service.phone_quota_percent and service.release_hours_before (channel quotas)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service") as batch_op:
        batch_op.add_column(
            sa.Column("phone_quota_percent", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("release_hours_before", sa.Integer(), server_default=sa.text("48"), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_service_phone_quota_percent_range"), "phone_quota_percent BETWEEN 0 AND 100"
        )
        batch_op.create_check_constraint(
            op.f("ck_service_release_hours_not_negative"), "release_hours_before >= 0"
        )


def downgrade():
    with op.batch_alter_table("service") as batch_op:
        batch_op.drop_constraint(op.f("ck_service_release_hours_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("ck_service_phone_quota_percent_range"), type_="check")
        batch_op.drop_column("release_hours_before")
        batch_op.drop_column("phone_quota_percent")
