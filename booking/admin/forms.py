from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from booking.auth.models import Role
from booking.core.validation import (
    MAX_BRING_ITEM_LENGTH,
    MAX_BRING_ITEMS,
    is_language_code,
    is_slug,
    normalize_phone,
    split_language_codes,
)
from booking.offices.models import OfficeKind
from booking.offices.texts import DEFAULT_LANGUAGE, OWN_NAMES, RTL_LANGUAGES, TEXT_LANGUAGES

# The languages besides German an office or service text can be given in (optional each).
OTHER_TEXT_LANGUAGES = tuple(code for code in TEXT_LANGUAGES if code != DEFAULT_LANGUAGE)


def slug_check(form, field) -> None:
    if field.data and not is_slug(field.data):
        raise ValidationError(
            _l("Use lower-case letters, digits and single hyphens only (e.g. welcome-point-1).")
        )


def phone_check(form, field) -> None:
    if field.data and normalize_phone(field.data) is None:
        raise ValidationError(_l("Please enter a valid phone number."))


def languages_check(form, field) -> None:
    bad = [code for code in split_language_codes(field.data) if not is_language_code(code)]
    if bad:
        raise ValidationError(_l("Unknown language code: %(codes)s", codes=", ".join(bad)))


def bring_items_check(form, field) -> None:
    items = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    if len(items) > MAX_BRING_ITEMS:
        raise ValidationError(_l("At most %(n)d items, please.", n=MAX_BRING_ITEMS))
    if any(len(item) > MAX_BRING_ITEM_LENGTH for item in items):
        raise ValidationError(
            _l("Each item may have at most %(n)d characters.", n=MAX_BRING_ITEM_LENGTH)
        )


def language_codes_text(value):
    """From `obj=user` the field gets the user's language rows (a POST without the field
    keeps them): show their codes."""
    if value is None or isinstance(value, str):
        return value
    return ", ".join(language.code for language in value)


def required(message=None):
    return DataRequired(message or _l("This field is required."))


class OfficeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), Length(max=200)])
    slug = StringField(
        _l("Short name in addresses (slug)"), validators=[required(), Length(max=64), slug_check]
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            (OfficeKind.UNIT.value, _l("Unit of the youth welfare office")),
            (OfficeKind.WELCOME_POINT.value, _l("Welcome Point")),
        ],
    )
    district = IntegerField(
        _l("City district"),
        validators=[Optional(), NumberRange(1, 10, _l("Düsseldorf has city districts 1 to 10."))],
    )
    address = StringField(_l("Address"), validators=[required(), Length(max=300)])
    operator = StringField(_l("Operator"), validators=[required(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40), phone_check])
    public_notes = TextAreaField(
        _l("Public notes (e.g. step-free access)"), validators=[Length(max=2000)]
    )
    directions = TextAreaField(
        _l("Directions (entrance, floor, nearest stop)"), validators=[Length(max=2000)]
    )
    callback_due_days = IntegerField(
        _l("Callbacks are due after this many working days"),
        validators=[Optional(), NumberRange(1, 20)],
        default=2,
        description=_l("Urgent requests: the next working day."),
    )
    callback_due_time = TimeField(
        _l("Callbacks are due at (time of day)"), validators=[Optional()], default=time(16, 0)
    )
    callback_max_attempts = IntegerField(
        _l("Failed call attempts before “unreachable”"),
        validators=[Optional(), NumberRange(1, 10)],
        default=3,
    )


class ServiceForm(FlaskForm):
    office_id = SelectField(_l("Office"), coerce=int)
    name = StringField(_l("Name"), validators=[required(), Length(max=200)])
    slug = StringField(
        _l("Short name in addresses (slug)"), validators=[required(), Length(max=64), slug_check]
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    please_bring = TextAreaField(
        _l("Please bring"),
        description=_l(
            "One item per line (at most %(n)d), e.g. “Passport”. Families see the list when "
            "they book and in their confirmation.",
            n=MAX_BRING_ITEMS,
        ),
        validators=[bring_items_check],
    )
    minutes = IntegerField(
        _l("Duration in minutes"),
        validators=[InputRequired(_l("This field is required.")), NumberRange(5, 480)],
        default=45,
    )
    buffer_minutes = IntegerField(
        _l("Buffer after each appointment in minutes"),
        validators=[Optional(), NumberRange(0, 240)],
        default=0,
    )
    step_minutes = IntegerField(
        _l("Grid step in minutes (empty: duration plus buffer)"),
        validators=[Optional(), NumberRange(5, 480)],
    )
    min_notice_hours = IntegerField(
        _l("Minimum notice in hours"), validators=[Optional(), NumberRange(0, 720)], default=24
    )
    horizon_days = IntegerField(
        _l("Bookable up to this many days ahead"),
        validators=[Optional(), NumberRange(1, 365)],
        default=60,
    )
    max_open_bookings_per_contact = IntegerField(
        _l("Open bookings per email address or phone number"),
        validators=[Optional(), NumberRange(1, 20)],
        default=2,
    )
    phone_quota_percent = IntegerField(
        _l("Share of each day's times kept for phone and desk bookings (percent)"),
        description=_l(
            "0: none. Families booking online see these times only from the hours below "
            "before them; reception sees and books them at any time."
        ),
        validators=[Optional(), NumberRange(0, 100)],
        default=0,
    )
    release_hours_before = IntegerField(
        _l("Kept times open to online booking this many hours before"),
        validators=[Optional(), NumberRange(0, 720)],
        default=48,
    )
    public = BooleanField(_l("Families can book this service online"), default=True)


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), Length(max=200)])
    email = StringField(
        _l("Email address (login)"),
        validators=[
            required(),
            Length(max=254),
            Email(_l("Please enter a valid email address."), check_deliverability=False),
        ],
    )
    role = SelectField(
        _l("Role"),
        choices=[
            (Role.CASEWORKER.value, _l("Caseworker")),
            (Role.RECEPTION.value, _l("Reception")),
            (Role.ADMIN.value, _l("Administrator")),
            (Role.PRIVACY.value, _l("Data protection officer (reads the audit log)")),
            (
                Role.OPERATOR_ADMIN.value,
                _l("Operator admin (offices, services, staff and hours of its operator)"),
            ),
        ],
    )
    office_ids = SelectMultipleField(_l("Offices"), coerce=int)
    service_ids = SelectMultipleField(_l("Services (caseworkers)"), coerce=int)
    languages = StringField(
        _l("Languages for counselling (codes, e.g. de, en, ar)"),
        validators=[Length(max=200), languages_check],
        filters=[language_codes_text],
    )


def translation_field_name(field: str, language: str) -> str:
    return f"{field}__{language}"


def add_translation_fields(form_class, texts: dict[str, tuple]) -> None:
    """One optional field per other language for each text field (`name__ar`, …), labelled
    with the language's own name; the German field stays the required one."""
    for field, (field_class, max_length, *checks) in texts.items():
        for code in OTHER_TEXT_LANGUAGES:
            setattr(
                form_class,
                translation_field_name(field, code),
                field_class(
                    OWN_NAMES[code],
                    validators=[Optional(), Length(max=max_length), *checks],
                    render_kw={"lang": code, "dir": "rtl" if code in RTL_LANGUAGES else "ltr"},
                ),
            )
    form_class.TRANSLATED = tuple(texts)
    form_class.TRANSLATIONS = {
        field: tuple(translation_field_name(field, code) for code in OTHER_TEXT_LANGUAGES)
        for field in texts
    }
    form_class.DEFAULT_LANGUAGE = (DEFAULT_LANGUAGE, OWN_NAMES[DEFAULT_LANGUAGE])


def translation_data(obj) -> dict[str, str]:
    """The stored translations of an office or service, as form data."""
    return {
        translation_field_name(field, code): obj.translation(field, code)
        for field in obj.TEXT_FIELDS
        for code in OTHER_TEXT_LANGUAGES
    }


def translations_from(data: dict, fields) -> dict[str, dict[str, str | None]]:
    return {
        field: {
            code: data.get(translation_field_name(field, code)) for code in OTHER_TEXT_LANGUAGES
        }
        for field in fields
    }


add_translation_fields(
    OfficeForm,
    {
        "name": (StringField, 200),
        "address": (StringField, 300),
        "operator": (StringField, 200),
        "public_notes": (TextAreaField, 2000),
        "directions": (TextAreaField, 2000),
    },
)
add_translation_fields(
    ServiceForm,
    {
        "name": (StringField, 200),
        "description": (TextAreaField, 2000),
        "please_bring": (
            TextAreaField,
            MAX_BRING_ITEMS * (MAX_BRING_ITEM_LENGTH + 1),
            bring_items_check,
        ),
    },
)
