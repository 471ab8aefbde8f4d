"""Data-subject requests at /admin/privacy/: find a person's records, export them, erase them.

The address is always POSTed (never in a URL, so never in an access log); the audit keeps only
a hash of it and the record ids."""

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.audit.services import record_event
from booking.auth.models import Role
from booking.core.access import me, roles_required
from booking.db import utcnow
from booking.privacy.forms import EraseForm, SubjectForm
from booking.privacy.subject import NotAContact, parse_subject
from booking.privacy.subject_requests import erase_records, find_records, records_as_json

bp = Blueprint("privacy", __name__, url_prefix="/admin/privacy")

# The data protection officer (role `privacy`, once it exists) may look and export; only
# admins erase.
READERS = tuple(r for r in (Role.ADMIN, getattr(Role, "PRIVACY", None)) if r is not None)
readers_required = roles_required(*READERS)
erasers_required = roles_required(Role.ADMIN)


@bp.record_once
def _setup(state) -> None:
    from booking import templating

    templating.LABELS["audit_action"].update(
        {
            "privacy.subject_searched": _l("data-subject request: records looked up"),
            "privacy.subject_exported": _l("data-subject request: records exported (JSON)"),
            "privacy.subject_erased": _l("data-subject request: records erased"),
        }
    )


def _detail(subject, records) -> str:
    return f"subject {subject.fingerprint}; {records.ids() or 'nothing found'}"


@bp.route("/")
@readers_required
def index():
    return render_template("privacy/index.html", form=SubjectForm(), records=None)


@bp.route("/search", methods=["POST"])
@readers_required
def search():
    form = SubjectForm()
    subject = form.subject()
    if subject is None:
        return render_template("privacy/index.html", form=form, records=None), 400
    records = find_records(subject)
    record_event("privacy.subject_searched", actor=me(), detail=_detail(subject, records))
    return render_template(
        "privacy/index.html",
        form=form,
        records=records,
        subject=subject,
        now=utcnow(),
        can_erase=me().role == Role.ADMIN,
    )


@bp.route("/export", methods=["POST"])
@readers_required
def export():
    form = SubjectForm()
    subject = form.subject()
    if subject is None:
        return render_template("privacy/index.html", form=form, records=None), 400
    records = find_records(subject)
    now = utcnow()
    record_event("privacy.subject_exported", actor=me(), detail=_detail(subject, records))
    body = json.dumps(records_as_json(records, now), ensure_ascii=False, indent=2)
    filename = f"auskunft-{subject.fingerprint}-{now:%Y-%m-%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/erase/confirm", methods=["POST"])
@erasers_required
def confirm_erase():
    """The step before erasing: what will go, and a reason."""
    search_form = SubjectForm()
    subject = search_form.subject()
    if subject is None:
        return render_template("privacy/index.html", form=search_form, records=None), 400
    form = EraseForm(formdata=None, contact=search_form.contact.data)
    return _confirm_page(form, subject)


def _confirm_page(form, subject, status: int = 200):
    records = find_records(subject)
    return render_template("privacy/confirm.html", form=form, records=records, now=utcnow()), status


@bp.route("/erase", methods=["POST"])
@erasers_required
def erase():
    form = EraseForm()
    try:
        subject = parse_subject(form.contact.data)
    except NotAContact:
        search_form = SubjectForm(formdata=None)
        search_form.contact.errors = [_("Please enter a valid email address or phone number.")]
        return render_template("privacy/index.html", form=search_form, records=None), 400
    if not form.validate():  # no reason, not confirmed, or no CSRF token: ask again
        return _confirm_page(form, subject, 400)
    records = find_records(subject)
    if not records.total:
        flash(_("No records of this person were found; nothing was erased."), "info")
        return redirect(url_for(".index"), code=303)
    counts = erase_records(records, subject, me(), form.reason.data, utcnow())
    flash(
        _(
            "Erased: %(appointments)d appointment(s), %(callbacks)d callback request(s), "
            "%(queue)d waiting-queue entry(ies), %(feedback)d accessibility report(s); "
            "%(messages)d message(s) deleted.",
            appointments=counts["appointments"],
            callbacks=counts["callbacks"],
            queue=counts["queue_entries"],
            feedback=counts["feedback"],
            messages=counts["messages"],
        ),
        "success",
    )
    if counts["waitlist_entries"]:
        flash(_("Waiting-list places erased: %(n)d.", n=counts["waitlist_entries"]), "success")
    return redirect(url_for(".index"), code=303)
