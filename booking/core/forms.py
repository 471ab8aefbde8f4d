"""Form helpers shared by every blueprint: refusals onto forms, choices, commit-or-show."""

from flask import abort, flash, redirect, request

from booking.core.exceptions import BookingError
from booking.extensions import db


def switching_language() -> bool:
    """A language button of a form page (base.html's `language_form`): show the page again in
    that language with what was typed; change nothing."""
    return request.method == "POST" and bool(request.form.get("switch_language"))


def get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def attach_error(form, error: BookingError) -> None:
    """Show a service refusal next to its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def attach_field_errors(form, errors: dict, aliases: dict | None = None) -> None:
    """Put {field: message} from a service onto the form; unknown fields go above it."""
    for field_name, message in errors.items():
        target = getattr(form, (aliases or {}).get(field_name, field_name), None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, str(message)]
        else:
            form.form_errors.append(str(message))


def commit_or_show(form, action, success_message: str, target: str):
    """For a valid form: run the service and redirect (the request commits); on a refusal
    undo its changes and return None, with the message on the form (which keeps the input)."""
    if not form.validate_on_submit():
        return None
    try:
        action()
    except BookingError as error:
        db.session.rollback()
        attach_error(form, error)
        return None
    flash(success_message, "success")
    return redirect(target)
