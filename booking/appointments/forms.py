from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import Select

from booking.core.converters import parse_date


def held_label() -> str:
    """How staff see a free time the channel quota keeps from online booking."""
    return str(_l("phone and desk only"))


def parse_week(text: str | None, today: date, horizon_days: int) -> date | None:
    """A day of the week asked for (ISO date), kept between today and the booking horizon;
    None for anything else (the caller then shows the earliest free week)."""
    asked = parse_date(text)
    if asked is None:
        return None
    return min(max(asked, today), today + timedelta(days=horizon_days))


class PlaceholderSelect(Select):
    """A select whose first option is empty, so that nothing is chosen until the user chooses."""

    def __init__(self, placeholder) -> None:
        super().__init__()
        self.placeholder = placeholder

    def __call__(self, field, **kwargs) -> Markup:
        html = str(super().__call__(field, **kwargs))
        option = Markup('<option value="">{}</option>').format(self.placeholder)
        # The first ">" closes the select's start tag (WTForms escapes attribute values).
        start_tag, options = html.split(">", 1)
        return Markup(f"{start_tag}>{option}{options}")  # noqa: S704 (WTForms' escaped HTML)


class TimeChoiceField(SelectField):
    """Free times grouped by day, none preselected. The engine judges the chosen time (a time
    taken meanwhile gets its own message), so the choice is not checked against the list."""

    widget = PlaceholderSelect(_l("– choose a time –"))

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(
            label,
            validators=validators or [DataRequired(_l("Please choose a time."))],
            validate_choice=False,
            **kwargs,
        )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the cancellation"),
        validators=[
            DataRequired(_l("Please give a reason for the cancellation.")),
            Length(max=300),
        ],
    )


class NoteForm(FlaskForm):
    note = TextAreaField(
        _l("Internal note"),
        validators=[DataRequired(_l("The note is empty.")), Length(max=500)],
        description=_l("Only staff see internal notes. Write no health details."),
    )


class MoveForm(FlaskForm):
    start = TimeChoiceField(_l("New time"))
    # The week shown, so that a refusal shows the same week again.
    week = HiddenField()
