"""What happened to an appointment, for whoever must tell someone about it.

booking.notify subscribes and queues the messages (in the same transaction); the appointments
package never imports notify, so the dependency runs one way only.
"""

from datetime import datetime

from blinker import Namespace

from booking.appointments.models import Appointment

_signals = Namespace()

# sender: the appointment; keyword arguments kind, manage_token (or None), now.
family_notice = _signals.signal("appointment-family-notice")
# sender: the appointment; keyword argument kind ("staff_cancelled", "staff_moved").
staff_notice = _signals.signal("appointment-staff-notice")


def tell_family(
    appointment: Appointment, kind: str, now: datetime, manage_token: str | None = None
) -> None:
    """Confirmation, moved or cancelled, to the family (never their note)."""
    _require_listener(family_notice)
    family_notice.send(appointment, kind=kind, manage_token=manage_token, now=now)


def tell_caseworker(appointment: Appointment, kind: str) -> None:
    """A family cancelled or moved: the caseworker hears of it."""
    _require_listener(staff_notice)
    staff_notice.send(appointment, kind=kind)


def _require_listener(signal) -> None:
    # A booking without its confirmation would be silently wrong: fail loudly instead.
    if not signal.receivers:
        raise RuntimeError(f"nobody listens to {signal.name}: is booking.notify loaded?")
