"""Families ask for a callback themselves: "Please call me back" on the office's page.

No JavaScript, a honeypot and the booking's rate limit; the answer (reference and due time)
follows Post/Redirect/Get and comes from the session, so a reload or the language switch
shows it again and nobody can read another family's request from an address.
"""

import secrets

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from booking.audit.services import record_event
from booking.callbacks.forms import OTHER_TOPIC, PublicCallbackForm, caller_details
from booking.callbacks.labels import reachable_label
from booking.callbacks.models import REACHABLE_CODES, CallbackRequest, CallbackSource
from booking.callbacks.services import (
    InvalidCallbackDetails,
    create_request,
    national_format,
    parse_phone,
)
from booking.core.access import public
from booking.core.exceptions import BookingError
from booking.core.forms import attach_error, attach_field_errors, switching_language
from booking.db import utcnow
from booking.extensions import db, limiter
from booking.offices.models import Office, Service
from booking.public.forms import language_choices, page_family_language

bp = Blueprint("callbacks_public", __name__)

# As for booking (booking/public/views.py).
REQUEST_LIMIT = "10 per minute; 60 per hour"
SESSION_KEY = "callback_done"


def active_office(slug: str) -> Office:
    office = db.session.scalar(select(Office).where(Office.slug == slug, Office.active.is_(True)))
    return office or abort(404)


def public_topics(office: Office) -> list[tuple[str, str]]:
    services = [s for s in office.services if s.active and s.public]
    return [(s.slug, s.local("name")) for s in services] + [(OTHER_TOPIC, _("Something else"))]


def topic_service(office: Office, slug: str | None) -> Service | None:
    for service in office.services:
        if service.slug == slug and service.active and service.public:
            return service
    return None


def prepare(form: PublicCallbackForm, office: Office) -> None:
    form.topic.choices = public_topics(office)
    form.language.choices = language_choices()
    form.reachable.choices = [(code, reachable_label(code)) for code in REACHABLE_CODES]
    if not form.is_submitted():
        form.language.data = page_family_language()
        wanted = request.args.get("topic")
        form.topic.data = wanted if wanted in dict(form.topic.choices) else OTHER_TOPIC
        form.form_key.data = secrets.token_urlsafe(16)


def office_phone(office: Office) -> str:
    return national_format(parse_phone(office.phone)) or (office.phone or "")


@bp.route("/offices/<slug>/callback", methods=["GET", "POST"])
@limiter.limit(REQUEST_LIMIT, methods=["POST"])
@public
def request_form(slug: str):
    office = active_office(slug)
    form = PublicCallbackForm()
    prepare(form, office)
    status = 200
    done = session.get(SESSION_KEY) or {}
    if form.is_submitted() and form.form_key.data and done.get("key") == form.form_key.data:
        # Sent twice (a double click, the back button): the first request stands.
        return redirect(url_for(".requested", slug=office.slug))
    if switching_language():
        pass  # the same form in the other language, with what was typed; nothing is sent
    elif form.validate_on_submit():
        if form.website.data:
            record_event("callback.refused", obj=office, detail="honeypot field filled")
            form.form_errors.append(_("Your request could not be processed. Please call us."))
            status = 422
        else:
            try:
                details = caller_details(form, office, topic_service(office, form.topic.data))
                created = create_request(office, details, utcnow(), source=CallbackSource.ONLINE)
            except InvalidCallbackDetails as error:
                db.session.rollback()
                attach_field_errors(form, error.errors)
                status = 422
            except BookingError as error:
                db.session.rollback()
                attach_error(form, error)
                status = 422
            else:
                session[SESSION_KEY] = {
                    "key": form.form_key.data,
                    "office": office.slug,
                    "request_id": created.id,
                }
                return redirect(url_for(".requested", slug=office.slug))
    elif form.is_submitted():
        status = 422
    return render_template(
        "callbacks/public_form.html",
        office=office,
        form=form,
        office_phone=office_phone(office),
        language_form="callback-form",
    ), status


@bp.route("/offices/<slug>/callback/requested")
@public
def requested(slug: str):
    office = active_office(slug)
    done = session.get(SESSION_KEY) or {}
    found = (
        db.session.get(CallbackRequest, done["request_id"])
        if done.get("office") == office.slug and isinstance(done.get("request_id"), int)
        else None
    )
    if found is None or found.office_id != office.id:
        return redirect(url_for(".request_form", slug=office.slug))
    response = render_template(
        "callbacks/public_requested.html",
        office=office,
        reference=found.reference,
        due_at=found.due_at,
        office_phone=office_phone(office),
    )
    return response, 200, {"Cache-Control": "no-store"}
