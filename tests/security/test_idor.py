"""IDOR: staff reach only the records of their own offices, and caseworkers only their own
appointments, hours, absences and calendar, by GET and by POST.

Each attack is a request another staff member could make with a real id or slug and
plausible form data. A refused request answers 403 or 404, shows none of the record and
changes nothing in the database. The same request by someone allowed gets through, so a
refusal is the rule at work and not a broken URL.
"""

from dataclasses import dataclass

import pytest

from tests.security.conftest import World, login, snapshot

STAFF = ("A1", "A2", "B1", "RA", "RB")
# Everything a form of these pages could ask for, filled in as an attacker would.
FORM = {
    "reason": "Termin fällt aus",
    "note": "Notiz des Angreifers",
    "start": "2027-03-04T11:00:00+01:00",
    "week": "2027-03-01",
    "assign-staff": "0",
    "attempt-outcome": "no_answer",
    "attempt-note": "x",
    "close-outcome": "resolved",
    "close-appointment_reference": "",
    "note-note": "Notiz des Angreifers",
    "add-note": "x",
    "add-form_key": "k" * 32,
    "call-place": "Raum 1",
    "walkin-name": "X",
    "walkin-note": "",
    "appt-reference": "",
    "name": "Familie Angreifer",
    "phone": "+49 211 899 0",
    "channel": "phone",
    "language": "de",
}


@dataclass
class Attack:
    method: str
    path: str
    allowed: frozenset  # who may: admin always
    secret: str = ""  # text of the record that a refusal must not show
    data: dict | None = None

    def id(self) -> str:
        return f"{self.method} {self.path}"


def attacks(world: World) -> list[Attack]:
    found = []

    def add(method, path, allowed, secret="", data=None, admin=True):
        allowed = set(allowed) | ({"admin"} if admin else set())
        found.append(Attack(method, path, frozenset(allowed), secret, data))

    for key, appointment_id in world.appointment.items():
        office = key[0]
        owner = key.split("-")[0]
        allowed = {owner, f"R{office}"}
        secret = world.family_name[key]
        add("GET", f"/appointments/{appointment_id}", allowed, secret)
        for action in ("attended", "no-show", "cancel", "note", "move", "restore"):
            add("POST", f"/appointments/{appointment_id}/{action}", allowed, secret, FORM)
        add("GET", f"/desk/booked/{appointment_id}", allowed, secret)
    for office, request_id in world.callback.items():
        allowed = {f"{office}1", "A2" if office == "A" else "B1", f"R{office}"}
        secret = world.family_name[f"callback-{office}"]
        add("GET", f"/callbacks/{request_id}", allowed, secret)
        for action in ("add", "assign", "attempt", "claim", "close", "note"):
            data = dict(FORM, **{"assign-staff": str(world.staff[f"{office}1"])})
            add("POST", f"/callbacks/{request_id}/{action}", allowed, secret, data)
        add("GET", f"/desk/?callback={request_id}", allowed)
        service = world.service_slug[office]
        add("GET", f"/desk/book/{service}?callback={request_id}", allowed)
        add("POST", f"/desk/book/{service}", allowed, secret, dict(FORM, callback=request_id))
    for office, entry_id in world.queue_entry.items():
        staff = {f"{office}1", f"R{office}"} | ({"A2"} if office == "A" else set())
        for slug_office in ("A", "B"):
            slug = world.slug[slug_office]
            # Through its own office's slug, and through the attacker's own office's slug.
            own = slug_office == office
            ok = staff if own else set()
            for action in ("served", "left"):
                path = f"/queue/{slug}/entries/{entry_id}/{action}"
                add("POST", path, ok, data=FORM, admin=own)
            call = dict(FORM, entry=str(entry_id))
            add("POST", f"/queue/{slug}/call", ok, data=call, admin=own)
    for office in ("A", "B"):
        slug = world.slug[office]
        staff = {f"{office}1", f"R{office}"} | ({"A2"} if office == "A" else set())
        secret = world.family_name[f"callback-{office}"]
        add("GET", f"/callbacks/office/{slug}", staff, secret)
        add("GET", f"/callbacks/office/{slug}/new", staff)
        add("POST", f"/callbacks/office/{slug}/new", staff, data=FORM)
        add("GET", f"/queue/{slug}", staff, f"Wartend {office}")
        for action in ("walk-in", "appointment", "call"):
            add("POST", f"/queue/{slug}/{action}", staff, data=FORM)
        add("GET", f"/calendar/office/{slug}", {f"R{office}"})
        add("GET", f"/staff/offices/{slug}", staff)
        add("GET", f"/reports/office/{slug}", staff)
        add("GET", f"/reports/office/{slug}.csv?table=summary", staff)
        add("GET", f"/desk/book/{world.service_slug[office]}", staff)
        add("POST", f"/desk/book/{world.service_slug[office]}", staff, data=FORM)
    for key in ("A1", "A2", "B1"):
        add("GET", f"/calendar/staff/{world.staff[key]}?view=week", {key}, world.family_name[key])
        add("POST", f"/calendar/hours/{world.hours[key]}/delete", {key}, data=FORM)
        add("POST", f"/calendar/absences/{world.absence[key]}/delete", {key}, data=FORM)
    return found


def refused(attack: Attack, response) -> None:
    body = response.get_data(as_text=True)
    if attack.path.startswith("/desk/booked/") and response.status_code == 302:
        # Not booked at this desk: sent on to the appointment's page, which refuses.
        assert response.headers["Location"].startswith("/appointments/"), attack.id()
    else:
        assert response.status_code in (403, 404), f"{response.status_code} {attack.id()}"
    if attack.secret:
        assert attack.secret not in body, attack.id()


def test_staff_cannot_reach_records_of_other_caseworkers_and_offices(app, world):
    clients = {who: login(app, who, world) for who in (*STAFF, "admin")}
    tried = 0
    for attack in attacks(world):
        for who in (*STAFF, "admin"):
            if who in attack.allowed:
                continue
            before = snapshot()
            response = clients[who].open(attack.path, method=attack.method, data=attack.data)
            refused(attack, response)
            assert snapshot() == before, f"{who}: {attack.id()} changed data"
            tried += 1
    assert tried > 200


@pytest.mark.parametrize("who", ["admin", "A1", "RA"])
def test_the_same_requests_get_through_for_those_allowed(app, world, who):
    """The control: the attacks' URLs and data are real (so a refusal above is the rule)."""
    client = login(app, who, world)
    # Every page first (while the records still show), then the changes.
    for attack in sorted(attacks(world), key=lambda attack: attack.method != "GET"):
        if who not in attack.allowed:
            continue
        response = client.open(attack.path, method=attack.method, data=attack.data)
        assert response.status_code not in (403, 404), f"{who}: {attack.id()}"
        if attack.method == "GET" and attack.secret and response.status_code == 200:
            assert attack.secret in response.get_data(as_text=True), f"{who}: {attack.id()}"
