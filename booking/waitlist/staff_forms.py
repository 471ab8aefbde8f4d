from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from booking.appointments.models import Channel
from booking.waitlist.forms import MultiCheckboxField


class StaffWaitlistForm(FlaskForm):
    """Reception puts a caller or a family at the desk on the list."""

    callback = HiddenField()
    channel = SelectField(
        _l("How did the family reach us?"),
        choices=[
            (Channel.PHONE.value, _l("by phone")),
            (Channel.DESK.value, _l("at the desk")),
        ],
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Please enter a name.")), Length(max=120)]
    )
    email = StringField(_l("Email address (optional)"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=40)])
    language = SelectField(_l("Language"))
    interpreter_needed = BooleanField(_l("Interpreter needed"))
    weekdays = MultiCheckboxField(_l("Days"), coerce=int)
    day_parts = MultiCheckboxField(_l("Times of day"), coerce=int)
