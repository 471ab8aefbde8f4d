from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from booking.appointments.models import Channel


class DeskBookingForm(FlaskForm):
    start = SelectField(_l("Time"), validators=[DataRequired(_l("Please choose a time."))])
    channel = RadioField(
        _l("How did the family reach us?"),
        choices=[(Channel.PHONE.value, _l("by phone")), (Channel.DESK.value, _l("at the desk"))],
        default=Channel.PHONE.value,
    )
    name = StringField(
        _l("Name of the family"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=120)],
    )
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("Email address"), validators=[Optional(), Length(max=254)])
    language = SelectField(_l("Language for the appointment"))
    interpreter_needed = BooleanField(_l("Interpreter needed"))
    note = TextAreaField(
        _l("Short note (optional)"),
        validators=[Length(max=500, message=_l("At most 500 characters, please."))],
        description=_l("No health details."),
    )
