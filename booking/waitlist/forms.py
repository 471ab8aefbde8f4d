from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from booking.public.forms import FamilyContactFields
from booking.waitlist.models import AFTERNOON, MORNING


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def wish_choices(form) -> None:
    """Weekdays (Monday to Saturday) named by Babel in the reader's language, and the two
    times of day."""
    names = get_day_names("wide", locale=get_locale())
    form.weekdays.choices = [(day, names[day]) for day in range(6)]
    form.day_parts.choices = [
        (MORNING, _l("mornings (before 12:00)")),
        (AFTERNOON, _l("afternoons (from 12:00)")),
    ]
    if not form.is_submitted():
        form.weekdays.data = form.weekdays.data or list(range(5))
        form.day_parts.data = form.day_parts.data or [MORNING, AFTERNOON]


class WaitlistForm(FamilyContactFields):
    """What a family gives to wait for a time: as for a booking, plus when it suits them."""

    weekdays = MultiCheckboxField(_l("Which days suit you?"), coerce=int)
    day_parts = MultiCheckboxField(_l("Which times of day suit you?"), coerce=int)
    privacy_consent = BooleanField(
        _l(
            "I have read the privacy notice. I agree that you store my details "
            "for the waiting list."
        ),
        validators=[DataRequired(_l("Please agree to the privacy notice."))],
    )
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
