"""Families on the waiting list: join it, see or leave their place, take or decline an offer.

The links carry secrets (only their hashes are stored): never cached, never sent on as a
referrer. Post/Redirect/Get after every change.
"""

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from booking.appointments.booking import InvalidFamilyDetails
from booking.appointments.models import AppointmentError
from booking.core.access import public
from booking.core.errors import render_error
from booking.core.exceptions import BookingError
from booking.core.forms import attach_error, attach_field_errors, switching_language
from booking.db import utcnow
from booking.extensions import db, limiter
from booking.public.forms import family_language_choices, page_family_language
from booking.public.services import public_service
from booking.public.views import BOOKING_LIMIT, MANAGE_LIMIT, no_referrer
from booking.waitlist.forms import WaitlistForm, wish_choices
from booking.waitlist.models import EntryStatus, OfferState
from booking.waitlist.services import (
    WaitlistError,
    accept_offer,
    decline_offer,
    entry_for_token,
    join_from_form,
    leave_waitlist,
    offer_for_token,
    open_offer,
)

bp = Blueprint("waitlist_public", __name__)


def see_other(location: str):
    return no_referrer(redirect(location, code=303))


@bp.route("/book/<slug>/waitlist", methods=["GET", "POST"])
@limiter.limit(BOOKING_LIMIT, methods=["POST"], exempt_when=switching_language)
@public
def join(slug: str):
    service = public_service(slug) or abort(404)
    form = WaitlistForm()
    form.language.choices = family_language_choices()
    wish_choices(form)
    if request.method == "GET":
        form.language.data = page_family_language()
    status = 200
    if request.method == "POST" and not switching_language():
        status = 422
        if form.validate_on_submit():
            try:
                token = join_from_form(service, form.data, utcnow())[1]
            except InvalidFamilyDetails as error:
                attach_field_errors(form, error.errors, aliases={"contact": "email"})
            except WaitlistError as error:
                attach_error(form, error)
            else:
                return see_other(url_for(".entry", token=token, done="joined"))
    return render_template(
        "waitlist/public_join.html", service=service, form=form, language_form="waitlist-form"
    ), status


def entry_or_404(token: str):
    entry = entry_for_token(token)
    if entry is None:
        answer, code = render_error(
            404, _("This link does not work. Please check the address. Or call the office.")
        )
        abort(no_referrer(make_response(answer, code)))
    return entry


@bp.route("/waitlist/<token>")
@limiter.limit(MANAGE_LIMIT)
@public
def entry(token: str):
    found = entry_or_404(token)
    done = request.args.get("done")
    response = make_response(
        render_template(
            "waitlist/public_entry.html",
            entry=found,
            token=token,
            done=done if done in ("joined", "left") else None,
            waiting=found.status == EntryStatus.WAITING,
            has_offer=open_offer(found) is not None,
        )
    )
    return no_referrer(response)


@bp.route("/waitlist/<token>/leave", methods=["POST"])
@limiter.limit(MANAGE_LIMIT)
@public
def leave(token: str):
    found = entry_or_404(token)
    if not switching_language():
        leave_waitlist(found, utcnow())
        return see_other(url_for(".entry", token=token, done="left"))
    return see_other(url_for(".entry", token=token))


@bp.route("/waitlist/offer/<token>", methods=["GET", "POST"])
@limiter.limit(MANAGE_LIMIT)
@public
def offer(token: str):
    found = offer_for_token(token)
    if found is None:
        answer, code = render_error(
            404, _("This link does not work. Please check the address. Or call the office.")
        )
        return no_referrer(make_response(answer, code))
    now = utcnow()
    message, status = None, 200
    if request.method == "POST" and not switching_language():
        action = request.form.get("action")
        try:
            if action == "accept":
                booking = accept_offer(found, now)
                return see_other(
                    url_for("public.manage", token=booking.manage_token, done="booked")
                )
            if action == "decline":
                decline_offer(found, now)
                return see_other(url_for(".offer", token=token))
        except (AppointmentError, BookingError) as error:
            db.session.rollback()
            message, status = str(error.message), 409
            found = offer_for_token(token)
    is_open = found.state == OfferState.OFFERED and found.hold_until > now
    response = make_response(
        render_template(
            "waitlist/public_offer.html",
            offer=found,
            entry=found.entry,
            service=found.service,
            token=token,
            is_open=is_open,
            message=message,
        ),
        status,
    )
    return no_referrer(response)
