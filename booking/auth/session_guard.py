"""Idle and absolute timeouts for staff sessions, checked before every request."""

from datetime import UTC, datetime

from flask import Flask, current_app, flash, session
from flask_babel import gettext as _
from flask_login import current_user

from booking.auth.services import expire_session, load_user_from_session_id, session_expired
from booking.core.i18n import N_
from booking.core.transactions import begin_write
from booking.extensions import login_manager


@login_manager.user_loader
def load_user(session_id: str):
    return load_user_from_session_id(session_id)


def check_staff_session() -> None:
    if not current_user.is_authenticated:
        return
    now = datetime.now(UTC).timestamp()
    config = current_app.config
    if session_expired(
        now,
        session.get("login_at"),
        session.get("seen_at"),
        config["STAFF_IDLE_TIMEOUT"],
        config["STAFF_ABSOLUTE_TIMEOUT"],
    ):
        begin_write()  # the audit entry writes, also on a GET
        expire_session(current_user._get_current_object())
        flash(_("Your session has expired. Please log in again."), "info")
        return
    session["seen_at"] = now


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please log in to access this page.")
    login_manager.localize_callback = _
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(check_staff_session)
