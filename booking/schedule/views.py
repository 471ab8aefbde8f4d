from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from booking.audit.services import record_event
from booking.auth.forms import ConfirmForm
from booking.auth.models import Role, StaffUser
from booking.core.access import manager_required, public, roles_required, staff_required
from booking.core.exceptions import BookingError
from booking.core.forms import attach_error, commit_or_show, get_or_404
from booking.core.scope import (
    MANAGER_ROLES,
    manage_filter,
    managed_offices,
    managed_or_404,
    may_manage_office,
    sees_every_office,
    staff_or_404,
)
from booking.core.transactions import writes
from booking.core.urls import external_url
from booking.db import utcnow
from booking.extensions import db, limiter
from booking.offices.models import Office
from booking.schedule.agenda import agenda_range, build_agenda, local_today, parse_day
from booking.schedule.feed import (
    build_feed,
    renew_feed_token,
    revoke_feed_token,
    staff_for_feed_token,
)
from booking.schedule.forms import (
    AbsenceForm,
    ClosureForm,
    ConsultationHoursForm,
    WeeklyHoursForm,
)
from booking.schedule.models import Absence, AbsenceKind, Closure, ConsultationHours, WeeklyHours
from booking.schedule.services import (
    add_absence,
    add_closure,
    add_consultation_hours,
    add_weekly_hours,
    conflicting_appointments,
    delete_absence,
    delete_closure,
    delete_consultation_hours,
    delete_weekly_hours,
    local_day_bounds,
)
from booking.staff.views import home_url
from booking.templating import format_clock, format_day

MAX_NAMED_CLASHES = 10  # appointments named in an absence's warning
bp = Blueprint("schedule", __name__)

caseworker_or_admin = roles_required(Role.CASEWORKER, Role.ADMIN)
# Own hours and absences, or (admins, operator admins) those of staff they manage.
hours_editors = roles_required(Role.CASEWORKER, Role.ADMIN, Role.OPERATOR_ADMIN)


def me() -> StaffUser:
    return current_user._get_current_object()


def target_staff(staff_id: int | None) -> StaffUser:
    """The person whose calendar this is: yourself, or anyone for an admin."""
    if staff_id is None or staff_id == current_user.id:
        return me()
    if current_user.role != Role.ADMIN:
        abort(403)
    return get_or_404(StaffUser, staff_id)


def managed_staff(staff_id: int | None) -> StaffUser:
    """Whose hours or absences these are: yourself, or someone you manage (else 404)."""
    if staff_id is None or staff_id == current_user.id:
        return me()
    if current_user.role not in MANAGER_ROLES:
        abort(403)
    return staff_or_404(staff_id)


@bp.route("/calendar/")
@staff_required
def index():
    if current_user.role == Role.ADMIN:
        return redirect(url_for("staff.index"))  # every office, each with its calendar
    return redirect(home_url(current_user))


@bp.route("/calendar/me")
@caseworker_or_admin
@writes
def my_calendar():
    user = me()
    return calendar_page(_("Calendar of %(name)s", name=user.name), [user])


@bp.route("/calendar/staff/<int:staff_id>")
@caseworker_or_admin
@writes
def staff_calendar(staff_id: int):
    user = target_staff(staff_id)
    return calendar_page(_("Calendar of %(name)s", name=user.name), [user])


@bp.route("/calendar/office/<slug>")
@roles_required(Role.RECEPTION, Role.ADMIN)
@writes
def office_calendar(slug: str):
    office = db.session.scalar(select(Office).where(Office.slug == slug))
    if office is None:
        abort(404)
    if not current_user.can_access_office(office):
        abort(403)
    staff = db.session.scalars(
        select(StaffUser)
        .where(
            StaffUser.offices.any(Office.id == office.id),
            StaffUser.role == Role.CASEWORKER,
            StaffUser.active.is_(True),
        )
        .order_by(StaffUser.name)
    ).all()
    return calendar_page(_("Calendar: %(office)s", office=office.name), list(staff), office)


def calendar_page(title: str, staff: list[StaffUser], office: Office | None = None):
    """Day or week of one person or an office; cancelled appointments only when asked."""
    now = utcnow()
    today = local_today(now)
    day = parse_day(request.args.get("day"), today)  # always a date within the calendar
    view = "week" if request.args.get("view") == "week" else "day"
    show_cancelled = request.args.get("cancelled") == "1"
    first, last = agenda_range(day, view)
    step = timedelta(days=7 if view == "week" else 1)
    agenda = build_agenda(staff, first, last, office=office)
    # Calendars show families' names: audited (the office or the person, the view and day).
    record_event(
        "calendar.viewed",
        actor=me(),
        obj=office if office is not None else (staff[0] if staff else None),
        detail=f"{view} {day.isoformat()}",
    )
    state = {"day": day.isoformat(), "view": view, "cancelled": "1" if show_cancelled else None}

    def calendar_url(**changes) -> str:
        """This calendar with some settings changed; the others are kept."""
        args = {**state, **changes}
        return url_for(
            request.endpoint,
            **request.view_args,
            **{key: value for key, value in args.items() if value is not None},
        )

    return render_template(
        "schedule/calendar.html",
        title=title,
        office=office,
        staff=staff,
        agenda=agenda,
        day=day,
        view=view,
        prev_day=day - step,
        next_day=day + step,
        today=today,
        show_cancelled=show_cancelled,
        booked_total=sum(d.appointments() for d in agenda),
        cancelled_total=sum(d.appointments(cancelled=True) for d in agenda),
        calendar_url=calendar_url,
    )


# Weekly hours


def hours_page(staff_id: int | None):
    user = managed_staff(staff_id)
    form = WeeklyHoursForm()
    form.office_id.choices = [(office.id, office.name) for office in user.offices]
    done = commit_or_show(
        form,
        lambda: add_weekly_hours(
            user,
            db.session.get(Office, form.office_id.data),
            form.weekdays.data,
            form.start.data,
            form.end.data,
            form.valid_from.data,
            form.valid_until.data,
            actor=me(),
        ),
        _("Hours added."),
        request.path,
    )
    if done:
        return done
    hours = db.session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.staff_id == user.id)
        .order_by(WeeklyHours.weekday, WeeklyHours.start_time)
    ).all()
    return render_template(
        "schedule/hours.html", user=user, form=form, hours=hours, confirm=ConfirmForm()
    )


@bp.route("/calendar/hours", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
def my_hours():
    return hours_page(None)


@bp.route("/calendar/hours/staff/<int:staff_id>", methods=["GET", "POST"])
@manager_required
def staff_hours(staff_id: int):
    return hours_page(staff_id)


@bp.route("/calendar/hours/<int:hours_id>/delete", methods=["POST"])
@hours_editors
def hours_delete(hours_id: int):
    row = get_or_404(WeeklyHours, hours_id)
    managed_staff(row.staff_id)
    if ConfirmForm().validate_on_submit():
        delete_weekly_hours(row, actor=me())
        flash(_("Hours deleted."), "success")
    return redirect(own_or_staff_url(".my_hours", ".staff_hours", row.staff_id))


def own_or_staff_url(own_endpoint: str, staff_endpoint: str, staff_id: int) -> str:
    """Back to your own page, or to the admin's page for that person."""
    if staff_id == current_user.id:
        return url_for(own_endpoint)
    return url_for(staff_endpoint, staff_id=staff_id)


# Absences


def absences_page(staff_id: int | None):
    user = managed_staff(staff_id)
    form = AbsenceForm()
    if form.validate_on_submit():
        try:
            absence = add_absence(
                user,
                AbsenceKind(form.kind.data),
                form.first_day.data,
                form.last_day.data or form.first_day.data,
                form.start_time.data,
                form.end_time.data,
                form.note.data or "",
                actor=me(),
            )
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            clashes = conflicting_appointments(absence)
            flash(_("Absence saved."), "success")
            if clashes:
                # Which ones, not just how many: the caseworker moves or cancels each of them.
                # The first few only: flashes live in the session cookie (about 4 KB).
                times = ", ".join(
                    f"{format_day(a.starts_at)} {format_clock(a.starts_at)} ({a.reference})"
                    for a in clashes[:MAX_NAMED_CLASHES]
                )
                if len(clashes) > MAX_NAMED_CLASHES:
                    times += " " + _("and %(n)d more", n=len(clashes) - MAX_NAMED_CLASHES)
                flash(
                    ngettext(
                        "%(num)d booked appointment falls into this absence: %(times)s. "
                        "Please move or cancel it.",
                        "%(num)d booked appointments fall into this absence: %(times)s. "
                        "Please move or cancel them.",
                        len(clashes),
                        times=times,
                    ),
                    "error",
                )
            return redirect(request.path)
    start, _end = local_day_bounds(local_today(utcnow()), local_today(utcnow()))
    absences = db.session.scalars(
        select(Absence)
        .where(Absence.staff_id == user.id, Absence.ends_at > start)
        .order_by(Absence.starts_at)
    ).all()
    return render_template(
        "schedule/absences.html",
        user=user,
        form=form,
        absences=absences,
        confirm=ConfirmForm(),
    )


@bp.route("/calendar/absences", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
def my_absences():
    return absences_page(None)


@bp.route("/calendar/absences/staff/<int:staff_id>", methods=["GET", "POST"])
@manager_required
def staff_absences(staff_id: int):
    return absences_page(staff_id)


@bp.route("/calendar/absences/<int:absence_id>/delete", methods=["POST"])
@hours_editors
def absence_delete(absence_id: int):
    absence = get_or_404(Absence, absence_id)
    managed_staff(absence.staff_id)
    staff_id = absence.staff_id
    if ConfirmForm().validate_on_submit():
        delete_absence(absence, actor=me())
        flash(_("Absence deleted."), "success")
    return redirect(own_or_staff_url(".my_absences", ".staff_absences", staff_id))


# Closures


@bp.route("/admin/closures", methods=["GET", "POST"])
@manager_required
def closures():
    form = ClosureForm()
    offices = managed_offices(me())
    everyone = [(0, _("All offices"))] if sees_every_office(me()) else []
    form.office_id.choices = everyone + [(o.id, o.name) for o in offices]
    done = commit_or_show(
        form,
        lambda: add_closure(
            db.session.get(Office, form.office_id.data) if form.office_id.data else None,
            form.first_day.data,
            form.last_day.data or form.first_day.data,
            form.reason.data,
            actor=me(),
        ),
        _("Closure saved."),
        url_for(".closures"),
    )
    if done:
        return done
    rows = db.session.scalars(
        select(Closure)
        .outerjoin(Closure.office)
        .where(Closure.last_day >= local_today(utcnow()) - timedelta(days=30))
        .where(sa.or_(Closure.office_id.is_(None), manage_filter(me())))
        .order_by(Closure.first_day)
    ).all()
    return render_template(
        "schedule/closures.html",
        form=form,
        closures=rows,
        may_delete=lambda closure: may_manage_closure(me(), closure),
        yearly=current_app.config["YEARLY_CLOSED_DAYS"],
        confirm=ConfirmForm(),
    )


def may_manage_closure(user: StaffUser, closure: Closure) -> bool:
    """A closure of every office is the city's; one office's, its manager's."""
    if closure.office is None:
        return sees_every_office(user)
    return may_manage_office(user, closure.office)


@bp.route("/admin/closures/<int:closure_id>/delete", methods=["POST"])
@manager_required
def closure_delete(closure_id: int):
    closure = get_or_404(Closure, closure_id)
    if not may_manage_closure(me(), closure):
        abort(404)
    if ConfirmForm().validate_on_submit():
        delete_closure(closure, actor=me())
        flash(_("Closure deleted."), "success")
    return redirect(url_for(".closures"))


# Calendar feed


@bp.route("/calendar/feed")
@caseworker_or_admin
def feed():
    return render_template(
        "schedule/feed.html",
        active=me().calendar_token_hash is not None,
        feed_url=None,
        confirm=ConfirmForm(),
    )


@bp.route("/calendar/feed/renew", methods=["POST"])
@caseworker_or_admin
def feed_renew():
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".feed"))
    token = renew_feed_token(me())
    # The secret is shown once, on this response only; it is stored as a hash.
    return render_template(
        "schedule/feed.html",
        active=True,
        feed_url=external_url("schedule.feed_ics", token=token),
        confirm=ConfirmForm(),
    )


@bp.route("/calendar/feed/revoke", methods=["POST"])
@caseworker_or_admin
def feed_revoke():
    if ConfirmForm().validate_on_submit():
        revoke_feed_token(me())
        flash(_("The calendar address no longer works."), "success")
    return redirect(url_for(".feed"))


@bp.route("/calendar/feed/<token>.ics")
@limiter.limit("60 per minute")
@public
def feed_ics(token: str):
    user = staff_for_feed_token(token)
    if user is None:
        abort(404)
    body = build_feed(user, utcnow(), "Sprechstunde")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="sprechstunde.ics"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# Open consultation hours


@bp.route("/admin/offices/<int:office_id>/consultation-hours", methods=["GET", "POST"])
@manager_required
def consultation_hours(office_id: int):
    office = managed_or_404(Office, office_id, office_of=lambda office: office)
    form = ConsultationHoursForm()
    team = db.session.scalars(
        select(StaffUser)
        .where(StaffUser.offices.any(Office.id == office.id), StaffUser.active.is_(True))
        .order_by(StaffUser.name)
    ).all()
    form.staff_ids.choices = [(user.id, user.name) for user in team]
    done = commit_or_show(
        form,
        lambda: add_consultation_hours(
            office,
            form.weekdays.data,
            form.start.data,
            form.end.data,
            [user for user in team if user.id in (form.staff_ids.data or [])],
            form.valid_from.data,
            form.valid_until.data,
            actor=me(),
        ),
        _("Consultation hours added."),
        request.path,
    )
    if done:
        return done
    rows = db.session.scalars(
        select(ConsultationHours)
        .where(ConsultationHours.office_id == office.id)
        .order_by(ConsultationHours.weekday, ConsultationHours.start_time)
    ).all()
    return render_template(
        "schedule/consultation_hours.html",
        office=office,
        form=form,
        rows=rows,
        confirm=ConfirmForm(),
    )


@bp.route("/admin/consultation-hours/<int:row_id>/delete", methods=["POST"])
@manager_required
def consultation_hours_delete(row_id: int):
    row = managed_or_404(ConsultationHours, row_id)
    office_id = row.office_id
    if ConfirmForm().validate_on_submit():
        delete_consultation_hours(row, actor=me())
        flash(_("Consultation hours deleted."), "success")
    return redirect(url_for(".consultation_hours", office_id=office_id))
