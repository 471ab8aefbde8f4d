"""Deny by default: every endpoint declares who may call it, and a request hook enforces it."""

from collections.abc import Callable

from flask import abort, current_app, request
from flask_login import current_user

from booking.auth.models import Role, StaffUser
from booking.core.scope import office_for_records, visible_offices
from booking.extensions import login_manager
from booking.offices.models import Office

PUBLIC = "public"
ACCESS_ATTR = "_access_rule"


def public(view: Callable) -> Callable:
    """Anyone may call this view, without logging in."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def roles_required(*roles: Role) -> Callable[[Callable], Callable]:
    """Only logged-in staff with one of these roles may call this view."""

    def decorator(view: Callable) -> Callable:
        setattr(view, ACCESS_ATTR, frozenset(roles))
        return view

    return decorator


staff_required = roles_required(Role.ADMIN, Role.CASEWORKER, Role.RECEPTION)
admin_required = roles_required(Role.ADMIN)
# Offices, services, staff and hours: admins all, operator admins their operator's.
manager_required = roles_required(Role.ADMIN, Role.OPERATOR_ADMIN)
# Statistics (anonymous figures): staff of their offices, operator admins their operator's.
reports_required = roles_required(Role.ADMIN, Role.CASEWORKER, Role.RECEPTION, Role.OPERATOR_ADMIN)
# The data protection officer reads the audit log and nothing else; logout and own password.
audit_readers = roles_required(Role.ADMIN, Role.PRIVACY)
any_staff_required = roles_required(*Role)


def access_rule_for(endpoint: str | None):
    """The declared rule of an endpoint, or None when it has none."""
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def is_staff_endpoint(endpoint: str | None) -> bool:
    rule = access_rule_for(endpoint)
    return rule is not None and rule != PUBLIC


def enforce_access():
    """before_request hook."""
    if request.endpoint is None:  # routing failed; the 404/405 handler answers
        return None
    rule = access_rule_for(request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s has no access rule; denied", request.endpoint)
        abort(403)
    if rule == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in rule:
        abort(403)
    return None


def me() -> StaffUser:
    """The logged-in staff member (the object, not the proxy)."""
    return current_user._get_current_object()


def my_offices() -> list[Office]:
    """The active offices whose records the logged-in staff member sees (admins: all)."""
    return visible_offices(me())


def office_or_404(slug: str) -> Office:
    """An office by slug: 404 when unknown, 403 when not the staff member's."""
    return office_for_records(slug)
