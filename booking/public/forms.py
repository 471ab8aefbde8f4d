import secrets

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from booking.templating import language_name

# Languages families ask for most in Düsseldorf's youth services, German first.
FAMILY_LANGUAGES = (
    "de", "en", "ar", "tr", "uk", "ru", "fa", "pl", "ro", "bg", "ku", "ti", "so", "fr", "es", "it",
)  # fmt: skip


def language_choices() -> list[tuple[str, str]]:
    """The family languages, each named in the reader's language."""
    locale = str(get_locale())
    return [(code, language_name(code, locale)) for code in FAMILY_LANGUAGES]


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


class FamilyDetailsForm(FlaskForm):
    """What we ask of a family: the minimum to hold and confirm an appointment."""

    start = HiddenField()
    form_key = HiddenField(validators=[Length(max=64)])  # Appointment.idempotency_key
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
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "type": "tel"},
    )
    language = SelectField(_l("Language for the appointment"))
    interpreter_needed = BooleanField(_l("I need an interpreter"))
    note = TextAreaField(
        _l("Short note (optional)"),
        validators=[Length(max=500, message=_l("At most 500 characters, please."))],
        render_kw={"maxlength": "500", "rows": "3"},
    )
    privacy_consent = BooleanField(
        _l(
            "I have read the privacy notice and agree that my details are stored "
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
    """A POST-only button (cancel) or a slot radio list carrying only CSRF."""
