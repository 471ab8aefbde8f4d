from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from booking.auth.passwords import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = StringField(
        _l("Email address"),
        validators=[DataRequired(_l("Please enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Please enter your password.")),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """Empty form for POST-only buttons: carries the CSRF token."""


class NewPasswordFields:
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please enter a new password."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[
            DataRequired(_l("Please repeat the new password.")),
            EqualTo("new_password", _l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class SetPasswordForm(FlaskForm, NewPasswordFields):
    pass


class ChangePasswordForm(FlaskForm, NewPasswordFields):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
