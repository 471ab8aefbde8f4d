"""What the privacy notice names besides its text: controller, data protection officer and which
organisation runs which office (from the database, so a new office appears by itself)."""

from flask import current_app
from sqlalchemy import select

from booking.extensions import db
from booking.offices.models import Office
from booking.public.accessibility import address_lines


def notice_context() -> dict:
    config = current_app.config
    offices = db.session.scalars(
        select(Office).where(Office.active.is_(True)).order_by(Office.operator, Office.name)
    ).all()
    return {
        "controller": address_lines(config.get("PRIVACY_CONTROLLER")),
        "dpo_contact": address_lines(config.get("PRIVACY_DPO_CONTACT")),
        "offices": offices,
    }
