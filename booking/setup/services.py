"""Write a checked setup plan into the database: upsert by slug and email, all or nothing."""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import func, select

from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.auth.passwords import hash_password, verify_password
from booking.core.scope import OPERATOR_ROLES
from booking.extensions import db
from booking.offices.models import Office, OfficeKind, Service
from booking.schedule.models import RECURRENCE_FIELDS, ConsultationHours, WeeklyHours
from booking.setup.loader import SetupFileError, SetupPlan


@dataclass
class SetupReport:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    changed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    removed: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def touched(self) -> bool:
        return (
            any(self.created.values()) or any(self.changed.values()) or any(self.removed.values())
        )

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.changed) | set(self.removed))
        return [
            f"{kind}: {self.created[kind]} created, {self.changed[kind]} changed, "
            f"{self.removed[kind]} removed"
            for kind in kinds
        ]


def _assign(obj, values: dict) -> bool:
    """Set only the attributes that differ; True when anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _upsert(model, lookup: dict, values: dict) -> tuple[object, str]:
    """The matching row, updated, or a new one; with "created", "changed" or "same"."""
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        return obj, "created"
    return obj, "changed" if _assign(obj, values) else "same"


def _count(report: SetupReport, kind: str, state: str) -> None:
    if state == "created":
        report.created[kind] += 1
    elif state == "changed":
        report.changed[kind] += 1


def apply_setup(plan: SetupPlan) -> SetupReport:
    """Apply the plan inside the caller's transaction; SetupFileError on bad references."""
    problems: list[str] = []
    report = SetupReport()
    offices = _apply_offices(plan, report)
    services = _apply_services(plan, offices, report, problems)
    staff = _apply_staff(plan, offices, services, report, problems)
    _apply_hours(plan, offices, staff, report, problems)
    _apply_consultation_hours(plan, offices, staff, report, problems)
    if problems:
        raise SetupFileError(problems)
    db.session.flush()
    if report.touched:
        record_event("setup.loaded", detail="; ".join(report.lines()))
    return report


def _known(model, key: str, names: set[str], from_file: dict) -> dict:
    found = dict(from_file)
    missing = names - set(found)
    if missing:
        column = getattr(model, key)
        for obj in db.session.scalars(select(model).where(column.in_(missing))):
            found[getattr(obj, key)] = obj
    return found


def _apply_offices(plan: SetupPlan, report: SetupReport) -> dict[str, Office]:
    offices = {}
    for spec in plan.offices:
        values = {
            "name": spec.name,
            "kind": OfficeKind(spec.kind),
            "district": spec.district,
            "address": spec.address,
            "operator": spec.operator,
            "phone": spec.phone,
            "public_notes": spec.public_notes,
            "directions": spec.directions,
            "translations": spec.translations,
            "callback_due_days": spec.callback_due_days,
            "callback_due_time": spec.callback_due_time,
            "callback_max_attempts": spec.callback_max_attempts,
        }
        offices[spec.slug], state = _upsert(Office, {"slug": spec.slug}, values)
        _count(report, "offices", state)
    names = {s.office for s in plan.services} | {h.office for h in plan.hours}
    names |= {c.office for c in plan.consultation_hours}
    names |= {slug for s in plan.staff for slug in s.offices}
    db.session.flush()
    return _known(Office, "slug", names, offices)


def _apply_services(plan, offices, report, problems) -> dict[str, Service]:
    services = {}
    for spec in plan.services:
        office = offices.get(spec.office)
        if office is None:
            problems.append(f'[[service]] ({spec.slug}): unknown office "{spec.office}"')
            continue
        values = {
            "office_id": office.id,
            "name": spec.name,
            "description": spec.description,
            "please_bring": "\n".join(spec.please_bring),
            "minutes": spec.minutes,
            "buffer_minutes": spec.buffer_minutes,
            "step_minutes": spec.step_minutes,
            "min_notice_hours": spec.min_notice_hours,
            "horizon_days": spec.horizon_days,
            "max_open_bookings_per_contact": spec.max_open_bookings_per_contact,
            "phone_quota_percent": spec.phone_quota_percent,
            "release_hours_before": spec.release_hours_before,
            "public": spec.public,
            "translations": spec.translations,
        }
        services[spec.slug], state = _upsert(Service, {"slug": spec.slug}, values)
        _count(report, "services", state)
    db.session.flush()
    names = {slug for s in plan.staff for slug in s.services}
    return _known(Service, "slug", names, services)


def _apply_staff(plan, offices, services, report, problems) -> dict[str, StaffUser]:
    staff = {}
    for spec in plan.staff:
        name = f"[[staff]] ({spec.email})"
        unknown = [slug for slug in spec.offices if slug not in offices]
        if unknown:
            problems.append(f"{name}: unknown office {', '.join(unknown)}")
            continue
        wanted_services = []
        for slug in spec.services:
            service = services.get(slug)
            if service is None:
                problems.append(f'{name}: unknown service "{slug}"')
            elif service.office.slug not in spec.offices:
                problems.append(
                    f'{name}: service "{slug}" is offered at an office not in "offices"'
                )
            else:
                wanted_services.append(service)
        operators = {offices[slug].operator for slug in spec.offices}
        if len(operators) > 1 and Role(spec.role) in OPERATOR_ROLES:
            problems.append(
                f"{name}: offices of more than one operator ({', '.join(sorted(operators))}); "
                "staff of one operator see only that operator's offices"
            )
            continue
        values = {"name": spec.name, "role": Role(spec.role)}
        user, state = _upsert(StaffUser, {"email": spec.email}, values)
        changed = state == "changed"
        wanted_offices = [offices[slug] for slug in spec.offices]
        if {o.slug for o in user.offices} != set(spec.offices):
            user.offices = wanted_offices
            changed = True
        if {s.slug for s in user.services} != {s.slug for s in wanted_services}:
            user.services = wanted_services
            changed = True
        if user.language_codes != sorted(spec.languages):
            user.language_codes = sorted(spec.languages)
            changed = True
        if spec.password and not verify_password(user.password_hash, spec.password):
            user.password_hash = hash_password(spec.password)
            user.rotate_session_token()
            changed = True
        _count(
            report, "staff", "created" if state == "created" else "changed" if changed else "same"
        )
        staff[spec.email] = user
    db.session.flush()
    names = {h.staff for h in plan.hours} | {e for c in plan.consultation_hours for e in c.staff}
    return _known(StaffUser, "email", names, staff)


def _member_problem(user: StaffUser, office: Office) -> bool:
    return all(o.id != office.id for o in user.offices)


def _apply_hours(plan, offices, staff, report, problems) -> None:
    """The file is the truth for the hours of every (staff, office) pair it names."""
    wanted: dict[tuple[int, int], set[tuple]] = defaultdict(set)
    for spec in plan.hours:
        name = f"[[hours]] ({spec.staff} at {spec.office})"
        user, office = staff.get(spec.staff), offices.get(spec.office)
        if user is None or office is None:
            problems.append(f"{name}: unknown {'staff' if user is None else 'office'}")
            continue
        if user.role != Role.CASEWORKER:
            problems.append(f"{name}: weekly hours are for caseworkers only")
            continue
        if _member_problem(user, office):
            problems.append(f'{name}: {spec.staff} does not work at "{spec.office}"')
            continue
        for weekday in spec.weekdays:
            wanted[(user.id, office.id)].add(
                (weekday, spec.start, spec.end, spec.valid_from, spec.valid_until)
            )
    for (staff_id, office_id), rows in wanted.items():
        existing = db.session.scalars(
            select(WeeklyHours).filter_by(staff_id=staff_id, office_id=office_id)
        ).all()
        _sync_recurrences(
            existing,
            dict.fromkeys(rows),
            partial(WeeklyHours, staff_id=staff_id, office_id=office_id),
            "hours",
            report,
        )


def _sync_recurrences(existing, wanted: dict, make, kind: str, report) -> None:
    """Make the rows match `wanted` (recurrence key -> staff or None): keep, delete, add."""
    kept = set()
    for row in existing:
        key = row.recurrence_key
        if key in wanted and key not in kept:
            kept.add(key)
            people = wanted[key]
            if people is not None and {u.id for u in row.staff} != {u.id for u in people}:
                row.staff = people
                report.changed[kind] += 1
        else:
            db.session.delete(row)
            report.removed[kind] += 1
    for key in wanted.keys() - kept:
        values = dict(zip(RECURRENCE_FIELDS, key, strict=True))
        if wanted[key] is not None:
            values["staff"] = wanted[key]
        db.session.add(make(**values))
        report.created[kind] += 1


def _apply_consultation_hours(plan, offices, staff, report, problems) -> None:
    """The file is the truth for the consultation hours of every office it names there."""
    wanted: dict[int, dict[tuple, list[StaffUser]]] = defaultdict(dict)
    for spec in plan.consultation_hours:
        name = f"[[consultation_hours]] ({spec.office})"
        office = offices.get(spec.office)
        if office is None:
            problems.append(f'{name}: unknown office "{spec.office}"')
            continue
        people = []
        for email in spec.staff:
            user = staff.get(email)
            if user is None:
                problems.append(f'{name}: unknown staff "{email}"')
            elif _member_problem(user, office):
                problems.append(f'{name}: {email} does not work at "{spec.office}"')
            else:
                people.append(user)
        for weekday in spec.weekdays:
            key = (weekday, spec.start, spec.end, spec.valid_from, spec.valid_until)
            wanted[office.id][key] = people
    for office_id, rows in wanted.items():
        existing = db.session.scalars(select(ConsultationHours).filter_by(office_id=office_id))
        _sync_recurrences(
            existing.all(),
            rows,
            partial(ConsultationHours, office_id=office_id),
            "consultation_hours",
            report,
        )


def database_is_empty() -> bool:
    return not db.session.scalar(
        select(func.count()).select_from(Office)
    ) and not db.session.scalar(select(func.count()).select_from(StaffUser))
