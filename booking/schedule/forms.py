from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from booking.core.converters import CalendarDateField
from booking.templating import ABSENCE_KIND_LABELS, WEEKDAY_LABELS


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes: usable by keyboard and without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def required():
    return InputRequired(_l("This field is required."))


class WeeklyHoursForm(FlaskForm):
    office_id = SelectField(_l("Office"), coerce=int)
    weekdays = MultiCheckboxField(
        _l("Days"),
        coerce=int,
        choices=[(index, label) for index, label in enumerate(WEEKDAY_LABELS)],
        validators=[DataRequired(_l("Please choose at least one day."))],
    )
    start = TimeField(_l("From"), validators=[required()])
    end = TimeField(_l("Until"), validators=[required()])
    valid_from = CalendarDateField(_l("Valid from (optional)"), validators=[Optional()])
    valid_until = CalendarDateField(_l("Valid until (optional)"), validators=[Optional()])


class AbsenceForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=[(kind.value, label) for kind, label in ABSENCE_KIND_LABELS.items()]
    )
    first_day = CalendarDateField(_l("First day"), validators=[required()])
    last_day = CalendarDateField(_l("Last day (empty: same day)"), validators=[Optional()])
    start_time = TimeField(_l("From (empty: whole days)"), validators=[Optional()])
    end_time = TimeField(_l("Until"), validators=[Optional()])
    note = StringField(
        _l("Internal note (optional)"),
        validators=[Length(max=200)],
        description=_l("Visible to staff. No health details."),
    )


class ClosureForm(FlaskForm):
    office_id = SelectField(_l("Office"), coerce=int)
    first_day = CalendarDateField(_l("First day"), validators=[required()])
    last_day = CalendarDateField(_l("Last day (empty: same day)"), validators=[Optional()])
    reason = StringField(
        _l("Reason (shown to families)"),
        validators=[DataRequired(_l("Please give a reason.")), Length(max=200)],
    )


class ConsultationHoursForm(FlaskForm):
    weekdays = MultiCheckboxField(
        _l("Days"),
        coerce=int,
        choices=[(index, label) for index, label in enumerate(WEEKDAY_LABELS)],
        validators=[DataRequired(_l("Please choose at least one day."))],
    )
    start = TimeField(_l("From"), validators=[required()])
    end = TimeField(_l("Until"), validators=[required()])
    staff_ids = MultiCheckboxField(_l("Staff on duty"), coerce=int)
    valid_from = CalendarDateField(_l("Valid from (optional)"), validators=[Optional()])
    valid_until = CalendarDateField(_l("Valid until (optional)"), validators=[Optional()])
