"""Create, change and (de)activate offices, services and staff accounts. Services flush only."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from booking.admin.forms import translations_from
from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.auth.services import count_admins, normalize_email
from booking.core.exceptions import BookingError, NotAllowed
from booking.core.scope import (
    OPERATOR_ROLES,
    grantable_roles,
    may_manage_office,
    may_manage_staff,
    operator_of,
    operators_of,
    sees_every_office,
)
from booking.core.validation import normalize_phone, split_language_codes
from booking.extensions import db
from booking.offices.models import Office, OfficeKind, Service, bring_lines


class AdminError(BookingError):
    pass


def _flush_or_refuse(message, field: str) -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise AdminError(message, field=field) from error


def _slug_taken(model, slug: str, own_id: int | None) -> bool:
    found = db.session.scalar(select(model.id).where(model.slug == slug))
    return found is not None and found != own_id


def save_office(office: Office | None, data: dict, actor: StaffUser) -> Office:
    """Create an office (office=None) or change one, from validated form data. An operator
    admin's offices are its operator's, and stay so."""
    if office is not None and not may_manage_office(actor, office):
        raise NotAllowed(_l("You may not change this office."))
    if not sees_every_office(actor) and data["operator"].strip() != operator_of(actor):
        raise AdminError(_l("You can only manage offices of your own operator."), field="operator")
    if _slug_taken(Office, data["slug"], office.id if office else None):
        raise AdminError(_l("Another office already uses this slug."), field="slug")
    created = office is None
    office = office or Office()
    office.name = data["name"].strip()
    office.slug = data["slug"]
    office.kind = OfficeKind(data["kind"])
    office.district = data.get("district")
    office.address = data["address"].strip()
    office.operator = data["operator"].strip()
    office.phone = normalize_phone(data["phone"]) if data.get("phone") else None
    office.public_notes = (data.get("public_notes") or "").strip()
    office.directions = (data.get("directions") or "").strip()
    office.set_translations(translations_from(data, Office.TEXT_FIELDS))
    for setting in ("callback_due_days", "callback_due_time", "callback_max_attempts"):
        if data.get(setting) is not None:  # left empty: keep (or default)
            setattr(office, setting, data[setting])
    db.session.add(office)
    _flush_or_refuse(_l("Another office already uses this slug."), "slug")
    record_event("office.created" if created else "office.changed", actor=actor, obj=office)
    return office


def set_office_active(office: Office, active: bool, actor: StaffUser) -> None:
    if not may_manage_office(actor, office):
        raise NotAllowed(_l("You may not change this office."))
    office.active = active
    db.session.flush()
    record_event("office.activated" if active else "office.deactivated", actor=actor, obj=office)


def save_service(service: Service | None, data: dict, actor: StaffUser) -> Service:
    if _slug_taken(Service, data["slug"], service.id if service else None):
        raise AdminError(_l("Another service already uses this slug."), field="slug")
    if service is not None and not may_manage_office(actor, service.office):
        raise NotAllowed(_l("You may not change this service."))
    office = db.session.get(Office, data["office_id"])
    if office is None or not may_manage_office(actor, office):
        raise AdminError(_l("Please choose an office."), field="office_id")
    created = service is None
    service = service or Service()
    service.office = office
    service.name = data["name"].strip()
    service.slug = data["slug"]
    service.description = (data.get("description") or "").strip()
    service.bring_items = (data.get("please_bring") or "").splitlines()
    texts = translations_from(data, Service.TEXT_FIELDS)
    texts["please_bring"] = {  # one item a line, as the German list
        code: "\n".join(bring_lines(text or "")) for code, text in texts["please_bring"].items()
    }
    service.set_translations(texts)
    service.minutes = data["minutes"]
    service.buffer_minutes = data.get("buffer_minutes") or 0
    service.step_minutes = data.get("step_minutes") or None
    service.min_notice_hours = _default(data.get("min_notice_hours"), 24)
    service.horizon_days = _default(data.get("horizon_days"), 60)
    service.max_open_bookings_per_contact = _default(data.get("max_open_bookings_per_contact"), 2)
    service.phone_quota_percent = _default(data.get("phone_quota_percent"), 0)
    service.release_hours_before = _default(data.get("release_hours_before"), 48)
    service.public = bool(data.get("public"))
    db.session.add(service)
    _flush_or_refuse(_l("Another service already uses this slug."), "slug")
    record_event("service.created" if created else "service.changed", actor=actor, obj=service)
    return service


def _default(value, fallback: int) -> int:
    return fallback if value is None else value


def set_service_active(service: Service, active: bool, actor: StaffUser) -> None:
    if not may_manage_office(actor, service.office):
        raise NotAllowed(_l("You may not change this service."))
    service.active = active
    db.session.flush()
    record_event("service.activated" if active else "service.deactivated", actor=actor, obj=service)


def save_staff(user: StaffUser | None, data: dict, actor: StaffUser | None) -> StaffUser:
    """Create or change an account; actor None is the command line (trusted like an admin)."""
    email = normalize_email(data["email"])
    existing = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    if existing is not None and existing is not user:
        raise AdminError(_l("Another account already uses this email address."), field="email")
    if actor is not None and user is not None and not may_manage_staff(actor, user):
        raise NotAllowed(_l("You may not change this account."))
    role = Role(data["role"])
    if actor is not None and role not in grantable_roles(actor):
        raise AdminError(_l("You may not give this role."), field="role")
    demoted = user is not None and user.active and user.role == Role.ADMIN and role != Role.ADMIN
    if demoted and count_admins() <= 1:
        raise AdminError(_l("The last administrator cannot lose the role."), field="role")
    offices = [db.session.get(Office, office_id) for office_id in data.get("office_ids") or []]
    services = [db.session.get(Service, service_id) for service_id in data.get("service_ids") or []]
    if any(
        office is None or (actor is not None and not may_manage_office(actor, office))
        for office in offices
    ):
        raise AdminError(_l("Please choose offices you manage."), field="office_ids")
    check_one_operator(role, offices)
    office_ids = {office.id for office in offices if office}
    if any(service is None or service.office_id not in office_ids for service in services):
        raise AdminError(
            _l("Services can only be chosen at the offices this person works for."),
            field="service_ids",
        )
    created = user is None
    user = user or StaffUser()
    if user.email != email and user.id is not None:
        user.rotate_session_token()  # a changed login name ends open sessions
    user.email = email
    user.name = data["name"].strip()
    user.role = role
    user.offices = [office for office in offices if office]
    user.services = services if role == Role.CASEWORKER else []
    user.language_codes = split_language_codes(data.get("languages") or "")
    db.session.add(user)
    _flush_or_refuse(_l("Another account already uses this email address."), "email")
    record_event("staff.created" if created else "staff.changed", actor=actor, obj=user)
    return user


def check_one_operator(role: Role, offices: list[Office]) -> None:
    """Staff of an operator work for offices of that operator only (the operator boundary);
    an operator admin needs at least one office, which names its operator."""
    if role not in OPERATOR_ROLES:
        return
    if len(operators_of(offices)) > 1:
        raise AdminError(
            _l("All offices of a staff member must belong to the same operator."),
            field="office_ids",
        )
    if role == Role.OPERATOR_ADMIN and not offices:
        raise AdminError(
            _l("An operator admin needs at least one office: its operator is theirs."),
            field="office_ids",
        )


def set_staff_active(user: StaffUser, active: bool, actor: StaffUser) -> None:
    if not may_manage_staff(actor, user):
        raise NotAllowed(_l("You may not change this account."))
    if not active and user.role == Role.ADMIN and user.active and count_admins() <= 1:
        raise AdminError(_l("The last administrator cannot be deactivated."))
    if not active and user.id == actor.id:
        raise AdminError(_l("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    if not active:
        user.rotate_session_token()  # deactivation ends every session at once
    db.session.flush()
    record_event("staff.activated" if active else "staff.deactivated", actor=actor, obj=user)
