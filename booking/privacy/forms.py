from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from booking.privacy.subject import MAX_QUERY, NotAContact, parse_subject


class SubjectForm(FlaskForm):
    """The person a request is about. POSTed, so the address never lands in a URL or log."""

    contact = StringField(
        _l("Email address or phone number"),
        validators=[DataRequired(), Length(max=MAX_QUERY)],
    )

    def subject(self):
        """The normalised person, or None with a message on the field."""
        if not self.validate():
            return None
        try:
            return parse_subject(self.contact.data)
        except NotAContact:
            self.contact.errors = [
                *self.contact.errors,
                _l("Please enter a valid email address or phone number."),
            ]
            return None


class EraseForm(SubjectForm):
    contact = HiddenField(validators=[DataRequired(), Length(max=MAX_QUERY)])
    # Codes, not free text: the reason goes into the audit log, where a name must never be.
    reason = SelectField(
        _l("Reason"),
        choices=[
            ("", _l("Please choose")),
            ("art17_request", _l("Request of the person (Art. 17 GDPR)")),
            ("consent_withdrawn", _l("Consent withdrawn")),
            ("unlawful", _l("Stored without a legal basis")),
            ("other", _l("Other reason (documented in the file)")),
        ],
        validators=[DataRequired(_l("Please choose a reason."))],
    )
    confirmed = BooleanField(
        _l("I have checked that no law requires us to keep these data (§ 84 SGB X)."),
        validators=[DataRequired(_l("Please confirm."))],
    )
