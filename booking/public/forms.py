import secrets

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from booking.appointments.booking import MAX_NOTE
from booking.core.i18n import own_name
from booking.core.validation import is_mobile, normalize_phone
from booking.public.services import MAX_CANCEL_REASON
from booking.templating import language_name

# Languages families ask for most in Düsseldorf's youth services, German first.
FAMILY_LANGUAGES = (
    "de", "en", "ar", "tr", "uk", "ru", "fa", "pl", "ro", "bg", "ku", "ti", "so", "fr", "es", "it",
)  # fmt: skip


def language_choices() -> list[tuple[str, str]]:
    """The family languages, each named in the reader's language (for staff)."""
    locale = str(get_locale())
    return [(code, language_name(code, locale)) for code in FAMILY_LANGUAGES]


def family_language_choices() -> list[tuple[str, str, dict]]:
    """The family languages named in their own script, each option marked with its language."""
    return [(code, own_name(code), {"lang": code}) for code in FAMILY_LANGUAGES]


def page_family_language() -> str:
    """The language the family reads the page in: the first guess for their appointment's."""
    code = str(get_locale())
    return code if code in FAMILY_LANGUAGES else "de"


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


def one_newline(text: str | None) -> str | None:
    """Browsers send a line break as CR LF; count it as one character, as the reader sees it."""
    return text.replace("\r\n", "\n") if text else text


class MaxChars:
    """Refuse a text over the limit with a message. Unlike Length, no maxlength attribute:
    a browser would cut a longer pasted text silently."""

    def __init__(self, limit: int, message) -> None:
        self.limit = limit
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data and len(field.data) > self.limit:
            raise ValidationError(self.message)


def mobile_only(form, field) -> None:
    """Text messages reach mobiles only; an invalid number is explained by the booking check."""
    value = (field.data or "").strip()
    if value and normalize_phone(value) is not None and not is_mobile(value):
        raise ValidationError(
            _l(
                "This is not a mobile number. We can send text messages to mobile phones only. "
                "Please give an email address or a mobile number."
            )
        )


class BookingKeyFields:
    """The chosen time and the booking's one-time key. A mixin defined before the contact
    fields: WTForms orders fields by definition, and the time page carries them in that order."""

    start = HiddenField()
    form_key = HiddenField(validators=[Length(max=64)])  # Appointment.idempotency_key


class FamilyContactFields(FlaskForm):
    """Who the family is and how to reach them: the same for a booking and the waiting list."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = StringField(
        _l("Email address"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email", "type": "email"},
    )
    phone = StringField(
        _l("Mobile number"),
        validators=[Optional(), Length(max=40), mobile_only],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "type": "tel"},
    )
    language = SelectField(_l("Language for the appointment"))
    interpreter_needed = BooleanField(_l("I need an interpreter"))


class FamilyDetailsForm(BookingKeyFields, FamilyContactFields):
    """What we ask of a family: the minimum to hold and confirm an appointment."""

    note = TextAreaField(
        _l("Short note (optional)"),
        filters=[one_newline],
        validators=[
            MaxChars(
                MAX_NOTE,
                _l("Your note is too long. Please write at most %(max)d characters.", max=MAX_NOTE),
            )
        ],
        render_kw={"rows": "3"},
    )
    privacy_consent = BooleanField(
        _l(
            "I have read the privacy notice. I agree that you store my details "
            "for this appointment."
        ),
        validators=[DataRequired(_l("Please agree to the privacy notice."))],
    )
    # A field people do not see; bots fill it in.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )

    def ensure_form_key(self) -> None:
        if not self.form_key.data:
            self.form_key.data = new_form_key()


class SlotChoiceForm(FlaskForm):
    """A POST-only button or a slot radio list carrying only CSRF."""


class CancelForm(FlaskForm):
    """The second question before a family's cancellation, with an optional reason."""

    reason = TextAreaField(
        _l("Reason (optional)"),
        filters=[one_newline],
        validators=[
            MaxChars(
                MAX_CANCEL_REASON,
                _l("At most %(max)d characters, please.", max=MAX_CANCEL_REASON),
            ),
        ],
        render_kw={"rows": "2"},
    )
