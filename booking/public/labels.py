"""Labels families see on public pages: in babel-public.cfg's files, so every family catalog
has them (booking/templating.py hands them to the templates)."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "booked": _l("booked"),
    "cancelled": _l("cancelled"),
    "attended": _l("attended"),
    "no_show": _l("no-show"),
}
# Why a consultation hour does not take place (booking/schedule/services.py).
CANCEL_REASON_LABELS = {
    "holiday": _l("public holiday"),
    "closure": _l("closed"),
    "nobody_on_duty": _l("nobody on duty"),
}


def closed_label(when: str):
    """A yearly closed day ("Closed (24.12.)"); `when` is the day in the reader's format."""
    return _l("Closed (%(date)s)", date=when)
