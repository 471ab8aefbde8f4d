"""The operator boundary in one place: which offices a staff member sees or manages (issue 12).

Every office belongs to an operator (`Office.operator`: Jugendamt, Diakonie, Caritas, …).
- Families' records (calendars, appointments, callbacks, desk, waiting queue, statistics):
  the city's admins see every office; caseworkers and reception only the offices they work
  for, which all belong to one operator (checked when they are assigned); the operator admin
  and the data protection officer open none of them.
- Offices, services, staff accounts and hours: admins manage all; an operator admin those of
  its own operator, the operator of the offices it is assigned to.
Views ask here and nowhere else; a refusal is a 404 for records by id (no hint that it exists).
"""

from collections.abc import Iterable

import sqlalchemy as sa
from flask import abort
from sqlalchemy import select

from booking.auth.models import Role, StaffUser
from booking.extensions import db
from booking.offices.models import Office

# Roles that work with families' records (their offices); the others see none.
RECORD_ROLES = frozenset({Role.ADMIN, Role.CASEWORKER, Role.RECEPTION})
# Roles that manage offices, services, staff and hours (admins all, operator admins theirs).
MANAGER_ROLES = frozenset({Role.ADMIN, Role.OPERATOR_ADMIN})
# Roles bound to one operator by their offices.
OPERATOR_ROLES = frozenset({Role.CASEWORKER, Role.RECEPTION, Role.OPERATOR_ADMIN})


def sees_every_office(user: StaffUser) -> bool:
    return user.role == Role.ADMIN


def operators_of(offices: Iterable[Office]) -> set[str]:
    return {office.operator for office in offices}


def operator_of(user: StaffUser) -> str | None:
    """The operator a staff member belongs to: that of its offices (None: none or ambiguous)."""
    if user.role not in OPERATOR_ROLES:
        return None
    names = operators_of(user.offices)
    return names.pop() if len(names) == 1 else None


# Families' records


def record_office_ids(user: StaffUser) -> set[int] | None:
    """Ids of the offices whose records the user may see; None means every office."""
    if sees_every_office(user):
        return None
    if user.role not in (Role.CASEWORKER, Role.RECEPTION):
        return set()
    operator = operator_of(user)
    # Offices of two operators (one changed hands after the assignment): none until fixed.
    return {office.id for office in user.offices if office.operator == operator}


def may_see_office(user: StaffUser, office: Office | int | None) -> bool:
    if office is None:
        return False
    ids = record_office_ids(user)
    return ids is None or (office if isinstance(office, int) else office.id) in ids


def record_filter(user: StaffUser, office_id_column) -> sa.ColumnElement[bool]:
    """A WHERE clause limiting a query of records to the user's offices."""
    ids = record_office_ids(user)
    if ids is None:
        return sa.true()
    return office_id_column.in_(sorted(ids)) if ids else sa.false()


def visible_offices(user: StaffUser, active_only: bool = True) -> list[Office]:
    """The offices whose records the user sees, by name."""
    query = select(Office).where(record_filter(user, Office.id)).order_by(Office.name)
    if active_only:
        query = query.where(Office.active.is_(True))
    return list(db.session.scalars(query))


def office_for_records(slug: str) -> Office:
    """An office by slug for a records page: 404 when unknown, 403 when not the user's."""
    from flask_login import current_user

    office = db.session.scalar(select(Office).where(Office.slug == slug)) or abort(404)
    if not may_see_office(current_user, office):
        abort(403)
    return office


# Statistics (anonymous figures): record roles as above, an operator admin its operator's offices.


def report_offices(user: StaffUser) -> list[Office]:
    if user.role == Role.OPERATOR_ADMIN:
        return managed_offices(user)
    return visible_offices(user)


# Offices, services, staff and hours


def manage_filter(user: StaffUser) -> sa.ColumnElement[bool]:
    """A WHERE clause on Office limiting it to the offices the user manages."""
    if sees_every_office(user):
        return sa.true()
    operator = operator_of(user) if user.role == Role.OPERATOR_ADMIN else None
    return Office.operator == operator if operator is not None else sa.false()


def managed_offices(user: StaffUser, active_only: bool = False) -> list[Office]:
    query = select(Office).where(manage_filter(user)).order_by(Office.name)
    if active_only:
        query = query.where(Office.active.is_(True))
    return list(db.session.scalars(query))


def may_manage_office(user: StaffUser, office: Office | None) -> bool:
    if office is None:
        return False
    if sees_every_office(user):
        return True
    operator = operator_of(user) if user.role == Role.OPERATOR_ADMIN else None
    return operator is not None and office.operator == operator


def may_manage_staff(actor: StaffUser, user: StaffUser) -> bool:
    """Admins everyone; an operator admin the caseworkers, reception and operator admins whose
    every office is one of its operator's (never admins, the data protection officer, or
    accounts without an office)."""
    if sees_every_office(actor):
        return True
    if actor.role != Role.OPERATOR_ADMIN or user.role not in OPERATOR_ROLES:
        return False
    return bool(user.offices) and all(may_manage_office(actor, o) for o in user.offices)


def grantable_roles(actor: StaffUser) -> tuple[Role, ...]:
    if sees_every_office(actor):
        return tuple(Role)
    if actor.role == Role.OPERATOR_ADMIN:
        return (Role.CASEWORKER, Role.RECEPTION, Role.OPERATOR_ADMIN)
    return ()


def managed_or_404(model, object_id: int, office_of=lambda obj: obj.office):
    """A record by id that the user manages (by its office); 404 otherwise, also for ids of
    another operator's records."""
    from flask_login import current_user

    found = db.session.get(model, object_id)
    if found is None or not may_manage_office(current_user, office_of(found)):
        abort(404)
    return found


def staff_or_404(staff_id: int) -> StaffUser:
    from flask_login import current_user

    user = db.session.get(StaffUser, staff_id)
    if user is None or not may_manage_staff(current_user, user):
        abort(404)
    return user
