"""contact keys for the open-bookings limit (email without +tag, phone in E.164); sealed
manage tokens in the outbox instead of readable links

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 20:45:00

"""
from alembic import op
import phonenumbers
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def email_key(email):
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0] or local}@{domain}"


def phone_key(phone):
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, "DE")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upgrade():
    op.add_column(
        "outbox_message", sa.Column("sealed_manage_token", sa.String(length=255), nullable=True)
    )
    # Plain ADD COLUMN: a batch rebuild of "appointment" would drop the SQLite triggers.
    op.add_column("appointment", sa.Column("email_key", sa.String(length=254), nullable=True))
    op.add_column("appointment", sa.Column("phone_key", sa.String(length=16), nullable=True))
    op.create_index(op.f("ix_appointment_email_key"), "appointment", ["email_key"], unique=False)
    op.create_index(op.f("ix_appointment_phone_key"), "appointment", ["phone_key"], unique=False)
    appointment = sa.table(
        "appointment",
        sa.column("id", sa.Integer),
        sa.column("email", sa.String),
        sa.column("phone", sa.String),
        sa.column("email_key", sa.String),
        sa.column("phone_key", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(appointment.c.id, appointment.c.email, appointment.c.phone).where(
            sa.or_(appointment.c.email.is_not(None), appointment.c.phone.is_not(None))
        )
    ).all()
    for row in rows:
        connection.execute(
            appointment.update()
            .where(appointment.c.id == row.id)
            .values(email_key=email_key(row.email), phone_key=phone_key(row.phone))
        )


def downgrade():
    op.drop_index(op.f("ix_appointment_phone_key"), table_name="appointment")
    op.drop_index(op.f("ix_appointment_email_key"), table_name="appointment")
    # SQLite >= 3.35 drops a column in place; the triggers on the table stay.
    op.drop_column("appointment", "phone_key")
    op.drop_column("appointment", "email_key")
    op.drop_column("outbox_message", "sealed_manage_token")
