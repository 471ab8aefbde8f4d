from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length


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
    start = SelectField(_l("New time"), validators=[DataRequired(_l("Please choose a time."))])
