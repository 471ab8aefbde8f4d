from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from booking.audit.services import record_event
from booking.auth import throttle
from booking.auth.forms import ChangePasswordForm, ConfirmForm, LoginForm
from booking.auth.passwords import verify_password
from booking.auth.services import (
    AccountError,
    authenticate,
    end_session,
    find_staff_by_email,
    set_password,
    start_session,
)
from booking.core.access import any_staff_required, public
from booking.extensions import limiter
from booking.staff.views import home_url

bp = Blueprint("auth", __name__)


def is_safe_next(target: str | None) -> bool:
    """Only local paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def home_for(user) -> str:
    return home_url(user)


def login_limit_per_ip() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def login_limit_per_account() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def login_limit_per_account_untrusted() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT_UNTRUSTED"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit_per_ip, methods=["POST"])
@limiter.limit(
    login_limit_per_account,
    methods=["POST"],
    key_func=throttle.per_account_key,
    deduct_when=throttle.login_failed,
)
@limiter.limit(
    login_limit_per_account_untrusted,
    methods=["POST"],
    key_func=throttle.untrusted_account_key,
    deduct_when=throttle.login_failed,
    exempt_when=throttle.has_trusted_device,
)
@public
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.note_failed_login()
            known = find_staff_by_email(form.email.data)
            record_event("auth.login_failed", obj=known)
            current_app.logger.info("failed staff login")
            # One answer for a wrong email and a wrong password.
            form.form_errors.append(_("Email address or password is wrong."))
        else:
            start_session(user)
            target = form.next.data if is_safe_next(form.next.data) else home_for(user)
            response = redirect(target)
            throttle.remember_device(response, user.email)
            return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@any_staff_required
def logout():
    if ConfirmForm().validate_on_submit():
        end_session(current_user._get_current_object())
        flash(_("You are logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@any_staff_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            try:
                set_password(user, form.new_password.data, actor=user)
            except AccountError as error:
                form.new_password.errors.append(str(error.message))
            else:
                # The rotation logged out every session, this one included: start a new one.
                start_session(user)
                flash(_("Your password has been changed."), "success")
                return redirect(home_for(user))
    return render_template("auth/change_password.html", form=form)
