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


# NRW's public holidays under the German names the holidays library gives (its own
# translations cover only a few languages): each in the reader's language.
HOLIDAY_NAMES = {
    "Neujahr": _l("New Year's Day"),
    "Karfreitag": _l("Good Friday"),
    "Ostermontag": _l("Easter Monday"),
    "Erster Mai": _l("Labour Day"),
    "Christi Himmelfahrt": _l("Ascension Day"),
    "Pfingstmontag": _l("Whit Monday"),
    "Fronleichnam": _l("Corpus Christi"),
    "Tag der Deutschen Einheit": _l("German Unity Day"),
    "Allerheiligen": _l("All Saints' Day"),
    "Erster Weihnachtstag": _l("Christmas Day"),
    "Zweiter Weihnachtstag": _l("Second Day of Christmas"),
}


def holiday_name(german: str) -> str:
    """A public holiday's name in the reader's language (an unknown one stays German)."""
    return str(HOLIDAY_NAMES.get(german, german))


def closed_label(when: str):
    """A yearly closed day ("Closed (24.12.)"); `when` is the day in the reader's format."""
    return _l("Closed (%(date)s)", date=when)
