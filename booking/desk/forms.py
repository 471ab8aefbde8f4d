"""Reception and caseworkers book for families on the phone or at the desk."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from booking.appointments.forms import TimeChoiceField
from booking.appointments.models import Channel
from booking.public.forms import new_form_key

FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,43}")


class DeskBookingForm(FlaskForm):
    # One-time key: the same form sent twice books once and shows the first booking.
    form_key = HiddenField()
    # The week whose times are offered, so that a refusal or a caseworker change keeps it.
    shown_week = HiddenField()
    # The callback request this booking answers (its id only: no caller data in addresses).
    callback = HiddenField()
    staff = SelectField(_l("Caseworker"), validate_choice=False)
    start = TimeChoiceField(_l("Time"))
    channel = RadioField(
        _l("How did the family reach us?"),
        choices=[(Channel.PHONE.value, _l("by phone")), (Channel.DESK.value, _l("at the desk"))],
        default=Channel.PHONE.value,
    )
    name = StringField(
        _l("Name of the family"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    phone = StringField(
        _l("Phone number"),
        validators=[Optional(), Length(max=40)],
        description=_l(
            "For calling back; a landline is fine. Text messages (SMS) go to mobile numbers only."
        ),
        render_kw={"autocomplete": "off", "inputmode": "tel", "type": "tel"},
    )
    email = StringField(
        _l("Email address"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "off", "inputmode": "email", "type": "email"},
    )
    language = SelectField(_l("Language for the appointment"))
    interpreter_needed = BooleanField(_l("Interpreter needed"))
    note = TextAreaField(
        _l("Short note (optional)"),
        validators=[Length(max=500, message=_l("At most 500 characters, please."))],
        description=_l("No health details. At most 500 characters."),
        render_kw={"rows": "3"},
    )

    def ensure_form_key(self) -> None:
        if not FORM_KEY.fullmatch(self.form_key.data or ""):
            self.form_key.data = new_form_key()
