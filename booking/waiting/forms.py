"""Forms of the queue page. Each has its own prefix, so ids stay unique on the page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from booking.waiting.models import MAX_NAME, MAX_NOTE, MAX_PLACE

TOO_LONG = _l("At most %(max)d characters, please.")


class WalkInForm(FlaskForm):
    name = StringField(
        _l("First name or initials"),
        validators=[Optional(), Length(max=MAX_NAME, message=TOO_LONG)],
        description=_l("Optional. The waiting number is what is called out."),
        render_kw={"autocomplete": "off"},
    )
    note = StringField(
        _l("Note for staff"),
        validators=[Optional(), Length(max=MAX_NOTE, message=TOO_LONG)],
        description=_l("Optional, short: for example the language or an interpreter need."),
        render_kw={"autocomplete": "off"},
    )


class AppointmentCheckInForm(FlaskForm):
    reference = StringField(
        _l("Reference number"),
        validators=[
            DataRequired(_l("Please enter the appointment's reference.")),
            Length(max=40, message=TOO_LONG),
        ],
        description=_l("From the family's confirmation, for example 7KX4M2QP."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class CallForm(FlaskForm):
    place = StringField(
        _l("Where to"),
        validators=[
            DataRequired(_l("Please say where the person should go.")),
            Length(max=MAX_PLACE, message=TOO_LONG),
        ],
        description=_l("Your room or desk, shown on the waiting-room screen: e.g. Raum 2.14."),
    )
    # A row's "Call" button belongs to this form (form="call-form") and sends entry=<id>.


def focus_first_error(form) -> None:
    """Without JavaScript: the first field in error gets autofocus."""
    for field in form:
        if field.errors and field.type not in ("CSRFTokenField", "HiddenField"):
            field.render_kw = {**(field.render_kw or {}), "autofocus": True}
            return
