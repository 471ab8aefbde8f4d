"""Every text a form stores fits its column: the form's limit is at most the column's length.

Each WTForms form in the app says which model its fields fill (FORM_MODELS); a field fills
the column of its own name unless FIELD_COLUMNS names another, or NOT_STORED says why its
text never reaches a column as typed. A new form or field without an entry fails here.
"""

import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

import booking
from booking.accessibility.models import AccessibilityFeedback
from booking.admin.forms import OTHER_TEXT_LANGUAGES
from booking.appointments.models import Appointment
from booking.auth.models import StaffLanguage, StaffUser
from booking.callbacks.models import CallAttempt, CallbackApiKey, CallbackRequest
from booking.core.validation import is_language_code
from booking.desk.forms import FORM_KEY
from booking.offices.models import Office, Service
from booking.public.forms import MaxChars
from booking.schedule.models import Absence, Closure
from booking.waiting.models import QueueEntry
from booking.waitlist.models import WaitlistEntry

# Which model's columns a form fills; None: the form stores no text of its own.
FORM_MODELS = {
    "public.accessibility.FeedbackForm": AccessibilityFeedback,
    "admin.forms.OfficeForm": Office,
    "audit.forms.AuditSearchForm": None,
    "admin.forms.ServiceForm": Service,
    "admin.forms.StaffForm": StaffUser,
    "appointments.forms.CancelForm": Appointment,
    "appointments.forms.MoveForm": None,
    "appointments.forms.NoteForm": Appointment,
    "auth.forms.ChangePasswordForm": None,
    "callbacks.forms.AddToRequestForm": CallbackRequest,
    "callbacks.forms.ApiKeyForm": CallbackApiKey,
    "callbacks.forms.AssignForm": None,
    "callbacks.forms.AttemptForm": CallAttempt,
    "callbacks.forms.ButtonForm": None,
    "callbacks.forms.CloseForm": None,
    "callbacks.forms.NewCallbackForm": CallbackRequest,
    "callbacks.forms.NoteForm": CallbackRequest,
    "callbacks.forms.PublicCallbackForm": CallbackRequest,
    "auth.forms.ConfirmForm": None,
    "auth.forms.LoginForm": None,
    "auth.forms.SetPasswordForm": None,
    "desk.forms.DeskBookingForm": Appointment,
    "notify.views.NotificationSettingsForm": None,
    "public.forms.CancelForm": Appointment,
    "public.forms.FamilyContactFields": Appointment,  # and WaitlistEntry, by its subclasses
    "public.forms.FamilyDetailsForm": Appointment,
    "waitlist.forms.WaitlistForm": WaitlistEntry,
    "waitlist.staff_forms.StaffWaitlistForm": WaitlistEntry,
    "public.forms.SlotChoiceForm": None,
    "privacy.forms.EraseForm": None,
    "privacy.forms.SubjectForm": None,
    "reports.forms.PeriodForm": None,
    "schedule.forms.AbsenceForm": Absence,
    "schedule.forms.ClosureForm": Closure,
    "schedule.forms.ConsultationHoursForm": None,
    "schedule.forms.WeeklyHoursForm": None,
    "waiting.forms.AppointmentCheckInForm": None,
    "waiting.forms.CallForm": QueueEntry,
    "waiting.forms.WalkInForm": QueueEntry,
}
# Fields whose column has another name.
FIELD_COLUMNS = {
    "callbacks.forms.AddToRequestForm.note": CallbackRequest.__table__.c.internal_note,
    "callbacks.forms.NewCallbackForm.name": CallbackRequest.__table__.c.caller_name,
    "callbacks.forms.NoteForm.note": CallbackRequest.__table__.c.internal_note,
    "callbacks.forms.PublicCallbackForm.name": CallbackRequest.__table__.c.caller_name,
    "appointments.forms.CancelForm.reason": Appointment.__table__.c.cancel_reason,
    "appointments.forms.NoteForm.note": Appointment.__table__.c.internal_note,
    "desk.forms.DeskBookingForm.name": Appointment.__table__.c.family_name,
    "desk.forms.DeskBookingForm.note": Appointment.__table__.c.family_note,
    "public.forms.CancelForm.reason": Appointment.__table__.c.cancel_reason,
    "public.forms.FamilyContactFields.name": Appointment.__table__.c.family_name,
    "public.forms.FamilyDetailsForm.form_key": Appointment.__table__.c.idempotency_key,
    "public.forms.FamilyDetailsForm.name": Appointment.__table__.c.family_name,
    "waitlist.forms.WaitlistForm.name": WaitlistEntry.__table__.c.family_name,
    "waitlist.staff_forms.StaffWaitlistForm.name": WaitlistEntry.__table__.c.family_name,
    "public.forms.FamilyDetailsForm.note": Appointment.__table__.c.family_note,
}
# An office's or service's text in another language fills the JSON map `translations`,
# with the limit of the German text's column.
for _form, _model in (("OfficeForm", Office), ("ServiceForm", Service)):
    for _field in _model.TEXT_FIELDS:
        for _code in OTHER_TEXT_LANGUAGES:
            FIELD_COLUMNS[f"admin.forms.{_form}.{_field}__{_code}"] = _model.__table__.c[_field]
# Text fields never stored as typed, and why (each reason is checked below where it can be).
NOT_STORED = {
    "admin.forms.ServiceForm.please_bring": "a list of lines in a Text column",
    **{
        f"admin.forms.ServiceForm.please_bring__{code}": "a list of lines in the translations"
        for code in OTHER_TEXT_LANGUAGES
    },
    "admin.forms.StaffForm.languages": "split into language codes, each checked",
    "audit.forms.AuditSearchForm.object_id": "a search term (GET), compared, never stored",
    "callbacks.forms.AddToRequestForm.urgent": "a flag",
    "callbacks.forms.AddToRequestForm.form_key": "kept in the session only",
    "callbacks.forms.CloseForm.appointment_reference": "looked up, never stored",
    "callbacks.forms.NewCallbackForm.duplicate_ok": "compared with the number, never stored",
    "callbacks.forms.NewCallbackForm.phone": "stored as E.164, at most 16 characters",
    "callbacks.forms.PublicCallbackForm.form_key": "kept in the session only",
    "callbacks.forms.PublicCallbackForm.phone": "stored as E.164, at most 16 characters",
    "callbacks.forms.PublicCallbackForm.website": "honeypot, never stored",
    "desk.forms.DeskBookingForm.form_key": "replaced unless it matches FORM_KEY",
    "desk.forms.DeskBookingForm.callback": "a callback request id, looked up (404 unless digits)",
    "desk.forms.DeskBookingForm.shown_week": "parsed as a date",
    "public.forms.FamilyDetailsForm.start": "parsed as an instant",
    "public.forms.FamilyDetailsForm.website": "honeypot, never stored",
    "waitlist.forms.WaitlistForm.website": "honeypot, never stored",
    "waitlist.staff_forms.StaffWaitlistForm.callback": "a callback request id, looked up",
    "public.accessibility.FeedbackForm.form_key": "kept in the session only",
    "public.accessibility.FeedbackForm.website": "honeypot, never stored",
    "appointments.forms.MoveForm.week": "parsed as a date",
    "waiting.forms.AppointmentCheckInForm.reference": "looked up, never stored",
    "privacy.forms.EraseForm.contact": "looked up, never stored (the audit keeps a hash)",
    "privacy.forms.SubjectForm.contact": "looked up, never stored (the audit keeps a hash)",
}
PASSWORD_AND_LOGIN = ("password", "new_password", "current_password", "confirm", "next", "email")


def app_forms() -> dict[str, type]:
    """Every FlaskForm subclass in the app; every module imported first, so none is missed."""
    for module in pkgutil.walk_packages(booking.__path__, "booking."):
        importlib.import_module(module.name)
    found = {}
    classes = [FlaskForm]
    while classes:
        form = classes.pop()
        classes.extend(form.__subclasses__())
        if form.__module__.startswith("booking."):
            found[f"{form.__module__.removeprefix('booking.')}.{form.__name__}"] = form
    return found


def text_fields(form: type) -> dict[str, UnboundField]:
    return {
        name: value
        for name in dir(form)
        if isinstance(value := getattr(form, name), UnboundField)
        and issubclass(value.field_class, StringField)
    }


def form_limit(field: UnboundField) -> int | None:
    limits = [
        validator.max if isinstance(validator, Length) else validator.limit
        for validator in field.kwargs.get("validators", [])
        if (isinstance(validator, Length) and validator.max >= 0) or isinstance(validator, MaxChars)
    ]
    return min(limits) if limits else None


def stored_fields():
    """(key, form, field name, column) for every text field that fills a column."""
    rows = []
    for key, form in sorted(app_forms().items()):
        model = FORM_MODELS.get(key)
        for name in sorted(text_fields(form)):
            field_key = f"{key}.{name}"
            if model is None or field_key in NOT_STORED:
                continue
            column = FIELD_COLUMNS.get(field_key, model.__table__.c.get(name))
            rows.append(pytest.param(field_key, form, name, column, id=field_key))
    return rows


def test_every_form_says_which_model_it_fills(app):
    forms = app_forms()
    assert set(forms) == set(FORM_MODELS), "add the new form to FORM_MODELS"
    for key in [*FIELD_COLUMNS, *NOT_STORED]:
        form_key, _, name = key.rpartition(".")
        assert name in text_fields(forms[form_key]), f"{key} is no text field any more"


def test_forms_that_store_nothing_have_no_column_sized_text(app):
    for key, form in app_forms().items():
        if FORM_MODELS[key] is None:
            for name in text_fields(form):
                assert f"{key}.{name}" in NOT_STORED or name in PASSWORD_AND_LOGIN, (
                    f"{key}.{name}: map it to a column or say in NOT_STORED why not"
                )


@pytest.mark.parametrize("key, form, name, column", stored_fields())
def test_form_limit_fits_the_column(app, key, form, name, column):
    assert column is not None, f"{key}: no column {name}; add it to FIELD_COLUMNS or NOT_STORED"
    length = getattr(column.type, "length", None)
    limit = form_limit(text_fields(form)[name])
    if length is not None:
        assert limit is not None, f"{key} fills {column} ({length}) without a limit"
        assert limit <= length, f"{key} allows {limit} characters, {column} holds {length}"


@pytest.mark.parametrize("key, form, name, column", stored_fields())
def test_too_long_text_gets_a_form_message(app, key, form, name, column):
    limit = form_limit(text_fields(form)[name])
    if limit is None:
        pytest.skip(f"{column} has no length")
    with app.test_request_context(method="POST"):
        instance = form(formdata=MultiDict({name: "x" * (limit + 1)}), meta={"csrf": False})
        for field in instance:
            if getattr(field, "choices", []) is None:
                field.choices = []
        assert not instance.validate()
        assert instance[name].errors, f"{key}: {limit + 1} characters got no message"


def test_values_checked_elsewhere_fit_their_columns():
    code_column = StaffLanguage.__table__.c.code
    assert not is_language_code("a" * (code_column.type.length + 1))
    # E.164: a plus and at most 15 digits.
    assert CallbackRequest.__table__.c.phone.type.length >= 16
    key_column = Appointment.__table__.c.idempotency_key
    assert FORM_KEY.fullmatch("a" * (key_column.type.length + 1)) is None
