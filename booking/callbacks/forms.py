"""Forms of callback requests. Each form on the request page has its own prefix, so ids
stay unique; the new-callback form starts with the cursor in the name field."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from booking.callbacks.models import AttemptOutcome, CallbackOutcome
from booking.callbacks.services import (
    MAX_ATTEMPT_NOTE,
    MAX_NAME,
    MAX_NOTE,
    MAX_REACHABLE_NOTE,
    CallerDetails,
    check_caller_details,
)
from booking.offices.models import Office, Service

OTHER_TOPIC = "other"


def attempt_outcome_choices():
    return [
        (AttemptOutcome.REACHED.value, _l("reached")),
        (AttemptOutcome.NO_ANSWER.value, _l("no answer")),
        (AttemptOutcome.VOICEMAIL.value, _l("voicemail left")),
        (AttemptOutcome.WRONG_NUMBER.value, _l("wrong number")),
    ]


def close_outcome_choices():
    return [
        (CallbackOutcome.RESOLVED.value, _l("resolved on the phone")),
        (CallbackOutcome.APPOINTMENT_BOOKED.value, _l("appointment booked")),
        (CallbackOutcome.UNREACHABLE.value, _l("unreachable")),
        (CallbackOutcome.WITHDRAWN.value, _l("withdrawn")),
    ]


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes; unknown values are refused by the service with its own message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CallerFields:
    """What reception and families both give."""

    name = StringField(
        _l("Caller's name"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=MAX_NAME)],
        render_kw={"autocomplete": "off", "maxlength": str(MAX_NAME)},
    )
    phone = StringField(
        _l("Number to call back"),
        validators=[
            DataRequired(_l("Please enter the number to call back.")),
            Length(max=40),
        ],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off", "maxlength": "40"},
    )
    topic = SelectField(_l("Topic"))
    language = SelectField(_l("Language"))
    interpreter_needed = BooleanField(_l("Interpreter needed"))
    reachable = MultiCheckboxField(
        _l("Can be reached"), validators=[Optional()], validate_choice=False
    )
    reachable_note = StringField(
        _l("Other times or remarks on reaching them"),
        validators=[Length(max=MAX_REACHABLE_NOTE)],
        render_kw={"maxlength": str(MAX_REACHABLE_NOTE)},
    )
    voicemail_ok = BooleanField(_l("A voicemail message may be left"))
    email = StringField(
        _l("Email address (optional, for a message if we cannot reach them)"),
        validators=[Optional(), Length(max=254)],
        render_kw={"type": "email", "inputmode": "email", "autocomplete": "off"},
    )
    note = TextAreaField(
        _l("Short note (optional)"),
        validators=[Length(max=MAX_NOTE, message=_l("At most 500 characters, please."))],
        description=_l("At most 500 characters. No health details."),
        render_kw={"rows": "3", "maxlength": str(MAX_NOTE)},
    )


class NewCallbackForm(CallerFields, FlaskForm):
    urgent = BooleanField(_l("Urgent (due the next working day)"))
    # "Create a new request anyway" after the duplicate check: the number (E.164) it was for.
    duplicate_ok = HiddenField()

    def focus_first_field(self) -> None:
        """A fresh form starts in the name field (after an error, _forms.html moves it)."""
        self.name.render_kw = {**self.name.render_kw, "autofocus": True}


class PublicCallbackForm(CallerFields, FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=MAX_NAME)],
        render_kw={"autocomplete": "name", "maxlength": str(MAX_NAME)},
    )
    phone = StringField(
        _l("Your phone number"),
        validators=[
            DataRequired(_l("Please enter the number to call back.")),
            Length(max=40),
        ],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "tel", "maxlength": "40"},
    )
    topic = SelectField(_l("What is it about?"))
    language = SelectField(_l("Language for the call"))
    interpreter_needed = BooleanField(_l("I need an interpreter"))
    reachable = MultiCheckboxField(
        _l("When can we reach you?"), validators=[Optional()], validate_choice=False
    )
    reachable_note = StringField(
        _l("Other times (optional)"),
        validators=[Length(max=MAX_REACHABLE_NOTE)],
        render_kw={"maxlength": str(MAX_REACHABLE_NOTE)},
    )
    voicemail_ok = BooleanField(_l("We may leave a message on your voicemail"))
    email = StringField(
        _l("Email address (optional)"),
        validators=[Optional(), Length(max=254)],
        description=_l("Only if we cannot reach you by phone."),
        render_kw={"type": "email", "inputmode": "email", "autocomplete": "email"},
    )
    note = TextAreaField(
        _l("Short note (optional)"),
        validators=[Length(max=MAX_NOTE, message=_l("At most 500 characters, please."))],
        description=_l("At most 500 characters. Please write no health details."),
        render_kw={"rows": "3", "maxlength": str(MAX_NOTE)},
    )
    privacy_consent = BooleanField(
        _l("I have read the privacy notice. You may store my details for this callback."),
        validators=[DataRequired(_l("Please agree to the privacy notice."))],
    )
    # A field people do not see; bots fill it in.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    # One per form shown: a second submit of the same form shows the first answer.
    form_key = HiddenField()


def caller_details(form: CallerFields, office: Office, service: Service | None) -> CallerDetails:
    """The service's check of a valid staff or public form (only staff mark urgent);
    raises InvalidCallbackDetails with a message per field."""
    urgent = getattr(form, "urgent", None)
    return check_caller_details(
        office,
        form.name.data,
        form.phone.data,
        email=form.email.data,
        service=service,
        language=form.language.data,
        interpreter_needed=form.interpreter_needed.data,
        reachable=form.reachable.data or [],
        reachable_note=form.reachable_note.data,
        voicemail_ok=form.voicemail_ok.data,
        urgent=urgent is not None and bool(urgent.data),
        note=form.note.data,
    )


class ButtonForm(FlaskForm):
    """A POST-only button: carries only the CSRF token."""


class AddToRequestForm(FlaskForm):
    """The caller rang again: add to the open request instead of a duplicate."""

    note = HiddenField()
    urgent = HiddenField()
    # One per duplicate notice shown: a double click or a second tab adds the call once.
    form_key = HiddenField()


class AssignForm(FlaskForm):
    staff = SelectField(_l("Caseworker"), coerce=int)


class AttemptForm(FlaskForm):
    outcome = RadioField(
        _l("How did the call go?"),
        choices=attempt_outcome_choices(),
        validators=[DataRequired(_l("Please choose how the call went."))],
    )
    note = StringField(
        _l("Note on the call (optional)"),
        validators=[Length(max=MAX_ATTEMPT_NOTE)],
        render_kw={"maxlength": str(MAX_ATTEMPT_NOTE)},
    )


class CloseForm(FlaskForm):
    outcome = RadioField(
        _l("Outcome"),
        choices=close_outcome_choices(),
        validators=[DataRequired(_l("Please choose an outcome."))],
    )
    appointment_reference = StringField(
        _l("Reference of the booked appointment"),
        validators=[Length(max=16)],
        description=_l("Only for “appointment booked”."),
        render_kw={"autocomplete": "off", "maxlength": "16"},
    )


class NoteForm(FlaskForm):
    note = TextAreaField(
        _l("Internal note"),
        validators=[DataRequired(_l("The note is empty.")), Length(max=MAX_NOTE)],
        description=_l("Only staff see internal notes. Write no health details."),
        render_kw={"rows": "2", "maxlength": str(MAX_NOTE)},
    )


class ApiKeyForm(FlaskForm):
    label = StringField(
        _l("Name of the key (e.g. the phone system)"),
        validators=[
            DataRequired(_l("Please name the key (e.g. the phone system).")),
            Length(max=100),
        ],
        render_kw={"maxlength": "100"},
    )
