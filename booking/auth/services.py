"""Staff authentication and session lifecycle."""

from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from flask import session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import func, select

from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from booking.core.exceptions import BookingError
from booking.db import utcnow
from booking.extensions import db


class AccountError(BookingError):
    pass


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    """A syntactically valid address, normalised, or AccountError."""
    try:
        result = validate_email(normalize_email(email), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(_l("Please enter a valid email address."), field="email") from error
    return result.normalized.lower()


def find_staff_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalize_email(email)))


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active staff member with these credentials, or None (same cost either way)."""
    user = find_staff_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _l("The password may have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH),
            field="password",
        )


def set_password(user: StaffUser, password: str, actor: StaffUser | None = None) -> None:
    """Set a new password; every existing session of the user ends."""
    check_password_policy(password)
    user.password_hash = hash_password(password)
    user.rotate_session_token()
    db.session.flush()
    record_event("staff.password_set", actor=actor, obj=user)


def start_session(user: StaffUser) -> None:
    """A fresh session: nothing from before login survives (prevents session fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    user.rotate_session_token()
    user.last_login_at = utcnow()
    db.session.flush()
    login_user(user, remember=False)
    session.permanent = True
    now = datetime.now(UTC).timestamp()
    session["login_at"] = now
    session["seen_at"] = now
    record_event("auth.login", actor=user, obj=user)


def end_session(user: StaffUser | None, reason: str = "logout") -> None:
    """Log out here and invalidate the session token, so a copied cookie is useless."""
    if user is not None and user.is_authenticated:
        user.rotate_session_token()
        record_event(f"auth.{reason}", actor=user, obj=user)
        db.session.flush()
    forget_this_session()


def expire_session(user: StaffUser) -> None:
    """Refuse this (timed-out) cookie only.

    The server-side token stays: an old copy of the cookie replayed after its idle or absolute
    limit must not log the user out of the session they are working in. The cookie's own
    timestamps are signed, so it can never become valid again.
    """
    record_event("auth.timeout", actor=user, obj=user)
    db.session.flush()
    forget_this_session()


def forget_this_session() -> None:
    """Log out in this cookie (keeping the chosen language)."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def session_expired(now_ts: float, login_at: float | None, seen_at: float | None, idle, absolute):
    """True when the session is past its idle or absolute limit (timedelta arguments)."""
    if login_at is None or seen_at is None:
        return True
    return now_ts - seen_at > idle.total_seconds() or now_ts - login_at > absolute.total_seconds()


def load_user_from_session_id(session_id: str) -> StaffUser | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def count_admins() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == Role.ADMIN, StaffUser.active.is_(True))
    )
