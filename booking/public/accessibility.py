"""The accessibility statement (BITV 2.0), its feedback form, and the page in Leichte Sprache.

Public pages without JavaScript: the form has CSRF, a honeypot and the booking's rate limit,
and follows Post/Redirect/Get to a thank-you page. Strings live here (a public-facing file),
so every family language's catalog has them.
"""

import secrets
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from booking.accessibility.models import MAX_CONTACT, MAX_MESSAGE, MAX_NAME, MAX_PAGE
from booking.accessibility.services import Feedback, submit_feedback
from booking.audit.services import record_event
from booking.core.access import PUBLIC, access_rule_for, public
from booking.core.redaction import TOKEN_PATHS
from booking.core.validation import normalize_phone
from booking.db import utcnow
from booking.extensions import limiter
from booking.public.forms import MaxChars, one_newline
from booking.waiting import DISPLAY_REFRESH_SECONDS

bp = Blueprint("accessibility", __name__)

FEEDBACK_LIMIT = "10 per minute; 60 per hour"  # as for booking (booking/public/views.py)
SESSION_KEY = "feedback_done"


def email_or_phone(form, field) -> None:
    """An answer needs a way back: a valid email address or a phone number."""
    value = (field.data or "").strip()
    if not value:
        return
    if "@" in value:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as error:
            raise ValidationError(_l("Please enter a valid email address.")) from error
    elif normalize_phone(value) is None:
        raise ValidationError(_l("Please enter a valid email address or phone number."))


class FeedbackForm(FlaskForm):
    """A barrier on the website: only the message is needed; name and contact for an answer."""

    form_key = HiddenField(validators=[Length(max=64)])  # a double submit sends once
    message = TextAreaField(
        _l("What is the problem?"),
        filters=[one_newline],
        validators=[
            DataRequired(_l("Please describe the problem.")),
            MaxChars(
                MAX_MESSAGE,
                _l(
                    "Your message is too long. Please write at most %(max)d characters.",
                    max=MAX_MESSAGE,
                ),
            ),
        ],
        render_kw={"rows": "5"},
    )
    page = StringField(
        _l("On which page was the problem? (optional)"),
        validators=[Optional(), Length(max=MAX_PAGE)],
    )
    name = StringField(
        _l("Your name (optional)"),
        validators=[Optional(), Length(max=MAX_NAME)],
        render_kw={"autocomplete": "name"},
    )
    contact = StringField(
        _l("Email address or phone number (optional)"),
        validators=[Optional(), Length(max=MAX_CONTACT), email_or_phone],
        render_kw={"autocomplete": "email"},
    )
    # A field people do not see; bots fill it in.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )


def switching_language() -> bool:
    """A language button of the form: the page again in that language, nothing sent."""
    return request.method == "POST" and bool(request.form.get("switch_language"))


def page_hint(path: str) -> str:
    """The path a report came from, without the secret of a manage link."""
    return TOKEN_PATHS.sub(lambda m: m.group("prefix") + "…", path)[:MAX_PAGE]


@bp.app_context_processor
def footer_helpers():
    def statement_url() -> str:
        """The statement's address; from a public page it names that page for the form."""
        endpoint = request.endpoint or ""
        if access_rule_for(endpoint) == PUBLIC and not endpoint.startswith("accessibility."):
            return url_for("accessibility.statement", page=page_hint(request.path))
        return url_for("accessibility.statement")

    return {"statement_url": statement_url}


def config_date(key: str) -> date | None:
    try:
        return date.fromisoformat(str(current_app.config.get(key) or ""))
    except ValueError:
        return None


def address_lines(value) -> list[str]:
    """The enforcement body's address: a list of lines, or one text with line breaks."""
    if isinstance(value, list | tuple):
        return [str(line) for line in value if str(line).strip()]
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def render_statement(form: FeedbackForm, status: int = 200):
    config = current_app.config
    return render_template(
        "public/accessibility.html",
        form=form,
        max_message=MAX_MESSAGE,
        prepared=config_date("ACCESSIBILITY_STATEMENT_PREPARED"),
        reviewed=config_date("ACCESSIBILITY_STATEMENT_REVIEWED"),
        enforcement_address=address_lines(config.get("ACCESSIBILITY_ENFORCEMENT_ADDRESS")),
        language_form="feedback-form",
        display_refresh_seconds=DISPLAY_REFRESH_SECONDS,
    ), status


@bp.route("/accessibility", methods=["GET", "POST"])
@limiter.limit(
    FEEDBACK_LIMIT, methods=["POST"], exempt_when=lambda: bool(request.form.get("switch_language"))
)
@public
def statement():
    form = FeedbackForm()
    if not form.is_submitted():
        form.page.data = (request.args.get("page") or "")[:MAX_PAGE]
        form.form_key.data = secrets.token_urlsafe(16)
        return render_statement(form)
    if switching_language():
        return render_statement(form)
    if form.form_key.data and session.get(SESSION_KEY) == form.form_key.data:
        return redirect(url_for(".thanks"), code=303)  # sent twice: the first one stands
    if not form.validate_on_submit():
        return render_statement(form, 422)
    if form.website.data:
        record_event("accessibility_feedback.refused", detail="honeypot field filled")
        form.form_errors.append(_("Your message could not be sent."))
        return render_statement(form, 422)
    submit_feedback(
        Feedback(
            message=form.message.data,
            name=form.name.data,
            contact=form.contact.data,
            page=form.page.data,
            language=str(get_locale()),
        ),
        utcnow(),
    )
    session[SESSION_KEY] = form.form_key.data
    return redirect(url_for(".thanks"), code=303)


@bp.route("/accessibility/thanks")
@public
def thanks():
    return render_template("public/accessibility_thanks.html")


@bp.route("/easy-read")
@public
def easy_read():
    return render_template("public/easy_read.html")
