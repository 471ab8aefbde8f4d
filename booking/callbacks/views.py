"""Staff pages of callback requests: the fast new-callback form, the queue, the request page,
and the admins' telephone-system keys. Views never commit; every POST ends in a redirect
unless it shows the form again with what was typed (or a key that is shown once)."""

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.callbacks import labels
from booking.callbacks.forms import (
    OTHER_TOPIC,
    AddToRequestForm,
    ApiKeyForm,
    AssignForm,
    AttemptForm,
    ButtonForm,
    CloseForm,
    NewCallbackForm,
    NoteForm,
    caller_details,
)
from booking.callbacks.models import (
    REACHABLE_CODES,
    CallbackApiKey,
    CallbackRequest,
)
from booking.callbacks.services import (
    InvalidCallbackDetails,
    add_note,
    add_to_request,
    assign_request,
    can_see_request,
    claim_request,
    close_request,
    counts_for_offices,
    create_api_key,
    create_request,
    national_format,
    open_requests_for_phone,
    owed_by,
    queue_for_office,
    record_attempt,
    revoke_api_key,
)
from booking.core.access import admin_required, me, my_offices, office_or_404, staff_required
from booking.core.exceptions import BookingError
from booking.core.forms import (
    attach_error,
    attach_field_errors,
    get_or_404,
    switching_language,
)
from booking.core.transactions import writes
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.public.forms import language_choices
from booking.templating import format_clock, format_long_day

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")
STATUS_FILTERS = ("open", "new", "assigned", "closed", "all")
# The form keys of this login's last "add this call" presses (a second press adds nothing).
ADDED_KEYS = "callback_added"
KEEP_ADDED = 10


@bp.record_once
def _setup(state) -> None:
    labels.register()
    state.app.jinja_env.filters["phone_national"] = national_format
    state.app.jinja_env.globals["reachable_label"] = labels.reachable_label
    state.app.jinja_env.globals["weekday_label"] = labels.weekday_label
    state.app.jinja_env.globals["callback_counts"] = office_counts
    state.app.jinja_env.globals["callbacks_owed"] = lambda: owed_by(me(), utcnow())
    state.app.jinja_env.globals["callback_now"] = utcnow


def office_counts(office: Office):
    """Open and overdue requests of one office, for the staff start page and calendar."""
    return counts_for_offices([office.id], utcnow())[office.id]


def load(request_id: int) -> CallbackRequest:
    found = get_or_404(CallbackRequest, request_id)
    if not can_see_request(current_user, found):
        abort(403)
    return found


def topic_choices(office: Office) -> list[tuple[str, str]]:
    services = [s for s in office.services if s.active]
    return [(str(s.id), s.name) for s in services] + [(OTHER_TOPIC, _("Something else"))]


def topic_service(office: Office, value: str | None) -> Service | None:
    if not value or value == OTHER_TOPIC or not value.isdigit():
        return None
    service = db.session.get(Service, int(value))
    return service if service is not None and service.office_id == office.id else None


def prepare_caller_form(form, office: Office) -> None:
    form.topic.choices = topic_choices(office)
    form.language.choices = language_choices()
    form.reachable.choices = [(code, labels.reachable_label(code)) for code in REACHABLE_CODES]
    if not form.is_submitted():
        form.language.data = form.language.data or "de"
        form.topic.data = form.topic.data or OTHER_TOPIC


def due_text(instant) -> str:
    return f"{format_long_day(instant)}, {format_clock(instant)}"


# Start page and queue


@bp.route("/")
@staff_required
def index():
    offices = my_offices()
    if len(offices) == 1 and current_user.role != Role.CASEWORKER:
        return redirect(url_for(".queue", slug=offices[0].slug))
    now = utcnow()
    owed = owed_by(me(), now) if current_user.role == Role.CASEWORKER else []
    return render_template(
        "callbacks/index.html",
        offices=offices,
        counts=counts_for_offices([o.id for o in offices], now),
        owed=owed,
        now=now,
    )


@bp.route("/office/<slug>")
@staff_required
@writes
def queue(slug: str):
    office = office_or_404(slug)
    status = request.args.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    team = caseworkers_of(office)
    assignee_arg = request.args.get("assignee", "")
    assignee: str | int | None = None
    if assignee_arg == "none":
        assignee = "none"
    elif assignee_arg.isdigit() and int(assignee_arg) in {u.id for u in team}:
        assignee = int(assignee_arg)
    else:
        assignee_arg = ""
    requests = queue_for_office(office, status=status, assignee=assignee)
    # Seeing callers' names and numbers is access to social data: audit it.
    record_event("callback.queue_viewed", actor=me(), obj=office, detail=status)
    return render_template(
        "callbacks/queue.html",
        office=office,
        requests=requests,
        status=status,
        assignee=assignee_arg,
        team=team,
        now=utcnow(),
    )


def caseworkers_of(office: Office) -> list[StaffUser]:
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(
                StaffUser.role == Role.CASEWORKER,
                StaffUser.active.is_(True),
                StaffUser.offices.any(Office.id == office.id),
            )
            .order_by(StaffUser.name)
        )
    )


# New callback


@bp.route("/office/<slug>/new", methods=["GET", "POST"])
@staff_required
def new(slug: str):
    office = office_or_404(slug)
    form = NewCallbackForm()
    prepare_caller_form(form, office)
    duplicates: list[CallbackRequest] = []
    status = 200
    if switching_language():
        pass  # the same form in the other language, with what was typed; nothing is saved
    elif form.validate_on_submit():
        try:
            details = caller_details(form, office, topic_service(office, form.topic.data))
            duplicates = (
                []
                if form.duplicate_ok.data == details.phone
                else open_requests_for_phone(office, details.phone)
            )
            if not duplicates:
                created = create_request(office, details, utcnow(), actor=me())
        except InvalidCallbackDetails as error:
            db.session.rollback()
            attach_field_errors(form, error.errors)
            status = 422
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
            status = 422
        else:
            if not duplicates:
                flash(
                    _(
                        "Saved: callback request %(ref)s, due %(due)s.",
                        ref=created.reference,
                        due=due_text(created.due_at),
                    ),
                    "success",
                )
                return redirect(url_for(".detail", request_id=created.id))
            status = 409
            # "Save anyway" holds for this number only: another number is checked again.
            form.duplicate_ok.data = details.phone
            record_event("callback.duplicate_shown", actor=me(), obj=duplicates[0])
    elif form.is_submitted():
        status = 422
    if status == 200:
        form.focus_first_field()
    add_form = AddToRequestForm(prefix="add", formdata=None)
    add_form.note.data = form.note.data or ""
    add_form.urgent.data = "1" if form.urgent.data else ""
    add_form.form_key.data = secrets.token_urlsafe(16)
    return (
        render_template(
            "callbacks/new.html",
            office=office,
            form=form,
            duplicates=duplicates,
            add_form=add_form,
            now=utcnow(),
            language_form="callback-form",
        ),
        status,
    )


@bp.route("/<int:request_id>/add", methods=["POST"])
@staff_required
def add(request_id: int):
    found = load(request_id)
    form = AddToRequestForm(prefix="add")
    key = (form.form_key.data or "")[:64]
    if key and key in session.get(ADDED_KEYS, []):
        flash(_("This call is already added to %(ref)s.", ref=found.reference), "success")
    elif form.validate_on_submit():
        try:
            add_to_request(found, form.note.data, form.urgent.data == "1", me(), utcnow())
        except BookingError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            if key:
                session[ADDED_KEYS] = [*session.get(ADDED_KEYS, []), key][-KEEP_ADDED:]
            flash(_("Added to callback request %(ref)s.", ref=found.reference), "success")
    return redirect(url_for(".detail", request_id=found.id))


# The request page


def render_detail(found: CallbackRequest, status: int = 200, **forms):
    assign_form = forms.get("assign_form") or AssignForm(prefix="assign", formdata=None)
    assign_form.staff.choices = [(u.id, u.name) for u in caseworkers_of(found.office)]
    if found.assigned_to_id and not forms.get("assign_form"):
        assign_form.staff.data = found.assigned_to_id
    desk_url = None
    if found.is_open and found.phone:
        # Only the request's id: the desk loads the caller's details itself (no data in URLs).
        desk_url = (
            url_for("desk.book", slug=found.service.slug, callback=found.id)
            if found.service is not None and found.service.active
            else url_for("desk.index", callback=found.id)
        )
    return (
        render_template(
            "callbacks/detail.html",
            r=found,
            assign_form=assign_form,
            attempt_form=forms.get("attempt_form") or AttemptForm(prefix="attempt", formdata=None),
            close_form=forms.get("close_form") or CloseForm(prefix="close", formdata=None),
            note_form=forms.get("note_form") or NoteForm(prefix="note", formdata=None),
            claim_form=ButtonForm(prefix="claim", formdata=None),
            desk_url=desk_url,
            now=utcnow(),
            due_text=due_text,
        ),
        status,
    )


@bp.route("/<int:request_id>")
@staff_required
@writes
def detail(request_id: int):
    found = load(request_id)
    record_event("callback.viewed", actor=me(), obj=found)
    return render_detail(found)


def run_form(request_id: int, form_name: str, form, action, success: str):
    """Validate, run the service; PRG on success, the page with the form's errors if not."""
    found = load(request_id)
    if not found.is_open and form_name != "note_form":
        # A form from before the request was closed (another tab): the page no longer shows
        # it, so its errors would be invisible; say why instead.
        flash(_("This callback request is closed."), "error")
        return redirect(url_for(".detail", request_id=request_id), code=303)
    if form.validate_on_submit():
        try:
            action(found, form)
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(success, "success")
            return redirect(url_for(".detail", request_id=request_id))
    found = load(request_id)  # after a rollback: fresh state
    return render_detail(found, 422, **{form_name: form})


@bp.route("/<int:request_id>/assign", methods=["POST"])
@staff_required
def assign(request_id: int):
    found = load(request_id)
    form = AssignForm(prefix="assign")
    form.staff.choices = [(u.id, u.name) for u in caseworkers_of(found.office)]
    return run_form(
        request_id,
        "assign_form",
        form,
        lambda r, f: assign_request(r, f.staff.data, me(), utcnow()),
        _("Assigned."),
    )


@bp.route("/<int:request_id>/claim", methods=["POST"])
@staff_required
def claim(request_id: int):
    found = load(request_id)
    if ButtonForm(prefix="claim").validate_on_submit():
        try:
            claim_request(found, me(), utcnow())
        except BookingError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(_("The request is yours now."), "success")
    return redirect(url_for(".detail", request_id=request_id))


@bp.route("/<int:request_id>/attempt", methods=["POST"])
@staff_required
def attempt(request_id: int):
    return run_form(
        request_id,
        "attempt_form",
        AttemptForm(prefix="attempt"),
        lambda r, f: record_attempt(r, f.outcome.data, f.note.data, me(), utcnow()),
        _("Call attempt recorded."),
    )


@bp.route("/<int:request_id>/close", methods=["POST"])
@staff_required
def close(request_id: int):
    return run_form(
        request_id,
        "close_form",
        CloseForm(prefix="close"),
        lambda r, f: close_request(r, f.outcome.data, me(), utcnow(), f.appointment_reference.data),
        _("The request is closed."),
    )


@bp.route("/<int:request_id>/note", methods=["POST"])
@staff_required
def note(request_id: int):
    return run_form(
        request_id,
        "note_form",
        NoteForm(prefix="note"),
        lambda r, f: add_note(r, f.note.data, me(), utcnow()),
        _("Note added."),
    )


# Keys of telephone systems (admins)


def render_keys(office: Office, form, secret: str | None = None, status: int = 200):
    keys = db.session.scalars(
        select(CallbackApiKey)
        .where(CallbackApiKey.office_id == office.id)
        .order_by(CallbackApiKey.created_at.desc())
    ).all()
    return (
        render_template(
            "callbacks/keys.html",
            office=office,
            keys=keys,
            form=form,
            secret=secret,
            revoke_form=ButtonForm(prefix="revoke", formdata=None),
        ),
        status,
    )


@bp.route("/keys/<int:office_id>", methods=["GET", "POST"])
@admin_required
def keys(office_id: int):
    office = get_or_404(Office, office_id)
    form = ApiKeyForm(prefix="key")
    if form.validate_on_submit():
        try:
            _key, secret = create_api_key(office, form.label.data, me())
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            # The secret is shown once, on this response only; it is stored as a hash.
            page, status = render_keys(office, ApiKeyForm(prefix="key", formdata=None), secret)
            return page, status, {"Cache-Control": "no-store"}
    return render_keys(office, form, status=422 if form.is_submitted() else 200)


@bp.route("/keys/<int:office_id>/<int:key_id>/revoke", methods=["POST"])
@admin_required
def revoke_key(office_id: int, key_id: int):
    key = get_or_404(CallbackApiKey, key_id)
    if key.office_id != office_id:
        abort(404)
    if ButtonForm(prefix="revoke").validate_on_submit():
        try:
            revoke_api_key(key, me(), utcnow())
        except BookingError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(_("The key no longer works."), "success")
    return redirect(url_for(".keys", office_id=office_id))
