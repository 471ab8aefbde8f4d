from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking.admin.forms import OfficeForm, ServiceForm, StaffForm, translation_data
from booking.admin.services import (
    save_office,
    save_service,
    save_staff,
    set_office_active,
    set_service_active,
    set_staff_active,
)
from booking.audit.forms import AuditSearchForm
from booking.audit.models import AuditEvent
from booking.audit.services import record_event
from booking.auth.forms import ConfirmForm, SetPasswordForm
from booking.auth.models import StaffUser
from booking.auth.services import AccountError, set_password
from booking.core.access import audit_readers, manager_required, me
from booking.core.converters import id_arg
from booking.core.exceptions import BookingError
from booking.core.forms import attach_error, commit_or_show
from booking.core.scope import (
    grantable_roles,
    manage_filter,
    managed_offices,
    managed_or_404,
    may_manage_staff,
    operator_of,
    sees_every_office,
    staff_or_404,
)
from booking.core.transactions import writes
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.templating import LABELS

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 100


def save_form(form, save, obj, success_message: str, target: str):
    """Run a save service (obj, data, actor) for a valid form, as commit_or_show does."""
    return commit_or_show(
        form,
        lambda: save(obj, form.data, current_user._get_current_object()),
        success_message,
        target,
    )


def toggle_active(setter, obj, active: bool, target: str):
    if ConfirmForm().validate_on_submit():
        try:
            setter(obj, active, current_user._get_current_object())
        except BookingError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(_("Activated.") if active else _("Deactivated."), "success")
    return redirect(target)


@bp.route("/")
@manager_required
def index():
    mine = manage_filter(me())
    counts = {
        "offices": db.session.scalar(select(func.count()).select_from(Office).where(mine)),
        "services": db.session.scalar(
            select(func.count()).select_from(Service).join(Service.office).where(mine)
        ),
        "staff": len(managed_staff()),
    }
    return render_template("admin/index.html", counts=counts)


# Offices


@bp.route("/offices")
@manager_required
def offices():
    rows = db.session.scalars(
        select(Office)
        .where(manage_filter(me()))
        .order_by(Office.kind, Office.district, Office.name)
    )
    return render_template("admin/offices.html", offices=rows.all(), confirm=ConfirmForm())


def office_form(office: Office | None) -> OfficeForm:
    form = OfficeForm(obj=office, data=translation_data(office) if office else None)
    if not sees_every_office(me()):  # an operator admin's offices keep its operator
        form.operator.render_kw = {"readonly": True}
        if request.method == "GET":
            form.operator.data = operator_of(me())
    return form


def office_or_404(office_id: int) -> Office:
    return managed_or_404(Office, office_id, office_of=lambda office: office)


@bp.route("/offices/new", methods=["GET", "POST"])
@manager_required
def office_new():
    form = office_form(None)
    done = save_form(form, save_office, None, _("Office created."), url_for(".offices"))
    return done or render_template("admin/edit.html", form=form, title=_("New office"))


@bp.route("/offices/<int:office_id>/edit", methods=["GET", "POST"])
@manager_required
def office_edit(office_id: int):
    office = office_or_404(office_id)
    form = office_form(office)
    if request.method == "GET":
        form.kind.data = office.kind.value
    done = save_form(form, save_office, office, _("Office saved."), url_for(".offices"))
    return done or render_template("admin/edit.html", form=form, title=office.name)


@bp.route("/offices/<int:office_id>/deactivate", methods=["POST"])
@manager_required
def office_deactivate(office_id: int):
    return toggle_active(set_office_active, office_or_404(office_id), False, url_for(".offices"))


@bp.route("/offices/<int:office_id>/activate", methods=["POST"])
@manager_required
def office_activate(office_id: int):
    return toggle_active(set_office_active, office_or_404(office_id), True, url_for(".offices"))


# Services


@bp.route("/services")
@manager_required
def services():
    rows = db.session.scalars(
        select(Service)
        .join(Service.office)
        .where(manage_filter(me()))
        .order_by(Office.name, Service.name)
    )
    return render_template("admin/services.html", services=rows.all(), confirm=ConfirmForm())


@bp.route("/services/new", methods=["GET", "POST"])
@manager_required
def service_new():
    form = ServiceForm()
    form.office_id.choices = office_choices()
    if request.method == "GET" and request.args.get("office", type=id_arg):
        form.office_id.data = request.args.get("office", type=id_arg)
    done = save_form(form, save_service, None, _("Service created."), url_for(".services"))
    return done or render_template("admin/edit.html", form=form, title=_("New service"))


@bp.route("/services/<int:service_id>/edit", methods=["GET", "POST"])
@manager_required
def service_edit(service_id: int):
    service = managed_or_404(Service, service_id)
    form = ServiceForm(obj=service, data=translation_data(service))
    form.office_id.choices = office_choices()
    done = save_form(form, save_service, service, _("Service saved."), url_for(".services"))
    return done or render_template("admin/edit.html", form=form, title=service.name)


@bp.route("/services/<int:service_id>/deactivate", methods=["POST"])
@manager_required
def service_deactivate(service_id: int):
    service = managed_or_404(Service, service_id)
    return toggle_active(set_service_active, service, False, url_for(".services"))


@bp.route("/services/<int:service_id>/activate", methods=["POST"])
@manager_required
def service_activate(service_id: int):
    service = managed_or_404(Service, service_id)
    return toggle_active(set_service_active, service, True, url_for(".services"))


# Staff accounts


def office_choices() -> list[tuple[int, str]]:
    return [(office.id, office.name) for office in managed_offices(me())]


def service_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Service)
        .join(Service.office)
        .where(manage_filter(me()))
        .order_by(Office.name, Service.name)
    )
    return [(service.id, f"{service.office.name}: {service.name}") for service in rows]


def managed_staff() -> list[StaffUser]:
    rows = db.session.scalars(
        select(StaffUser)
        .options(selectinload(StaffUser.offices), selectinload(StaffUser.languages))
        .order_by(StaffUser.name)
    )
    return [user for user in rows if may_manage_staff(me(), user)]


def staff_form(user: StaffUser | None) -> StaffForm:
    form = StaffForm(obj=user)
    form.office_ids.choices = office_choices()
    form.service_ids.choices = service_choices()
    allowed = {role.value for role in grantable_roles(me())}
    form.role.choices = [(value, label) for value, label in form.role.choices if value in allowed]
    if user is not None and not request.form:  # shown, or a POST without fields (kept as is)
        form.role.data = user.role.value
        form.office_ids.data = [office.id for office in user.offices]
        form.service_ids.data = [service.id for service in user.services]
        form.languages.data = ", ".join(user.language_codes)
    return form


@bp.route("/staff")
@manager_required
def staff():
    return render_template("admin/staff.html", staff=managed_staff(), confirm=ConfirmForm())


@bp.route("/staff/new", methods=["GET", "POST"])
@manager_required
def staff_new():
    form = staff_form(None)
    if form.validate_on_submit():
        try:
            user = save_staff(None, form.data, current_user._get_current_object())
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(_("Account created. Now set a first password."), "success")
            return redirect(url_for(".staff_password", staff_id=user.id))
    return render_template("admin/edit.html", form=form, title=_("New staff account"))


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@manager_required
def staff_edit(staff_id: int):
    user = staff_or_404(staff_id)
    form = staff_form(user)
    done = save_form(form, save_staff, user, _("Account saved."), url_for(".staff"))
    return done or render_template("admin/edit.html", form=form, title=user.name)


@bp.route("/staff/<int:staff_id>/password", methods=["GET", "POST"])
@manager_required
def staff_password(staff_id: int):
    user = staff_or_404(staff_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.new_password.data, actor=current_user._get_current_object())
        except AccountError as error:
            db.session.rollback()
            form.new_password.errors.append(str(error.message))
        else:
            flash(_("Password set. All sessions of this account have ended."), "success")
            return redirect(url_for(".staff"))
    return render_template(
        "admin/edit.html", form=form, title=_("Set password for %(name)s", name=user.name)
    )


@bp.route("/staff/<int:staff_id>/deactivate", methods=["POST"])
@manager_required
def staff_deactivate(staff_id: int):
    user = staff_or_404(staff_id)
    return toggle_active(set_staff_active, user, False, url_for(".staff"))


@bp.route("/staff/<int:staff_id>/activate", methods=["POST"])
@manager_required
def staff_activate(staff_id: int):
    user = staff_or_404(staff_id)
    return toggle_active(set_staff_active, user, True, url_for(".staff"))


def label_choices(group: str) -> list[tuple[str, str]]:
    """Codes with their labels in the staff language, sorted by label."""
    return sorted(((key, str(text)) for key, text in LABELS[group].items()), key=lambda c: c[1])


@bp.route("/audit")
@audit_readers
@writes
def audit():
    """Admins and the data protection officer search the audit log (itself audited)."""
    form = AuditSearchForm(request.args)
    staff = db.session.scalars(select(StaffUser).order_by(StaffUser.name, StaffUser.id)).all()
    form.actor.choices = [("", _("Anyone")), *((str(user.id), user.name) for user in staff)]
    form.object_type.choices = [("", _("Any")), *label_choices("object_type")]
    form.action.choices = [("", _("Any")), *label_choices("audit_action")]
    page = max(request.args.get("page", 1, type=id_arg) or 1, 1)
    pagination = None
    if form.check():
        pagination = db.paginate(
            form.query(utcnow()).options(selectinload(AuditEvent.actor)),
            page=page,
            per_page=AUDIT_PAGE_SIZE,
            error_out=False,
            count=True,
        )
        searched = sorted(key for key, value in request.args.items() if key in form.data and value)
        record_event(
            "audit.searched",
            actor=current_user._get_current_object(),
            detail=" ".join(searched),  # which filters, never their values
        )
    filters = {key: value for key, value in request.args.items() if key in form.data and value}
    return render_template(
        "admin/audit.html",
        form=form,
        pagination=pagination,
        filters=filters,
    ), (200 if pagination is not None else 400)
