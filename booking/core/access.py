"""Deny by default: every endpoint declares who may call it, and a request hook enforces it."""

from collections.abc import Callable

from flask import abort, current_app, request
from flask_login import current_user

from booking.auth.models import Role
from booking.extensions import login_manager

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
