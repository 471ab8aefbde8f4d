"""Operator boundaries on every staff route (issue 12).

Two operators, Diakonie and Caritas, each with an office, a service, a caseworker, reception,
an operator admin and families' records (an appointment, a callback request, a waiting-queue
entry); the city's admin and the data protection officer besides. Every staff route of the URL
map is classified below: a route that is not fails the test, so a new one cannot be forgotten.
Each user walks every route by GET and POST with the ids and slugs of Caritas's records:
Diakonie's staff are refused (403/404) and never see a Caritas family's name or number, nor
Caritas's staff see Diakonie's; the city's admin may; the role rule refuses the rest."""

from datetime import time, timedelta

import pytest
from freezegun import freeze_time

from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import Role
from booking.callbacks.models import CallbackRequest
from booking.callbacks.services import check_caller_details, create_api_key, create_request
from booking.core.access import PUBLIC, access_rule_for
from booking.extensions import db
from booking.schedule.models import Absence, AbsenceKind, Closure, ConsultationHours, WeeklyHours
from booking.waiting.services import check_in_walk_in
from tests.test_waiting_queue import NOW

LONG = timedelta(days=3650)
OPERATORS = {"diakonie": "Diakonie Düsseldorf", "caritas": "Caritasverband Düsseldorf"}

# What each route's URL points at. "record": a record of one office (built from Caritas's);
# "list": the user's offices or operator (no id in the URL); "own": the user's own account;
# "city": city-wide pages whose role rule (admins, data protection officer) is the boundary.
ROUTES: dict[str, tuple[str, dict]] = {
    "accessibility_admin.change_state": ("city", {"feedback_id": 1}),
    "accessibility_admin.detail": ("city", {"feedback_id": 1}),
    "accessibility_admin.index": ("city", {}),
    "admin.audit": ("city", {}),
    "admin.index": ("list", {}),
    "admin.office_activate": ("record", {"office_id": "office"}),
    "admin.office_deactivate": ("record", {"office_id": "office"}),
    "admin.office_edit": ("record", {"office_id": "office"}),
    "admin.office_new": ("list", {}),
    "admin.offices": ("list", {}),
    "admin.service_activate": ("record", {"service_id": "service"}),
    "admin.service_deactivate": ("record", {"service_id": "service"}),
    "admin.service_edit": ("record", {"service_id": "service"}),
    "admin.service_new": ("list", {}),
    "admin.services": ("list", {}),
    "admin.staff": ("list", {}),
    "admin.staff_activate": ("record", {"staff_id": "caseworker"}),
    "admin.staff_deactivate": ("record", {"staff_id": "caseworker"}),
    "admin.staff_edit": ("record", {"staff_id": "caseworker"}),
    "admin.staff_new": ("list", {}),
    "admin.staff_password": ("record", {"staff_id": "caseworker"}),
    "appointments.attended": ("record", {"appointment_id": "appointment"}),
    "appointments.cancel": ("record", {"appointment_id": "appointment"}),
    "appointments.detail": ("record", {"appointment_id": "appointment"}),
    "appointments.move": ("record", {"appointment_id": "appointment"}),
    "appointments.no_show": ("record", {"appointment_id": "appointment"}),
    "appointments.note": ("record", {"appointment_id": "appointment"}),
    "appointments.restore_cancelled": ("record", {"appointment_id": "appointment"}),
    "auth.change_password": ("own", {}),
    "callbacks.add": ("record", {"request_id": "callback"}),
    "callbacks.assign": ("record", {"request_id": "callback"}),
    "callbacks.attempt": ("record", {"request_id": "callback"}),
    "callbacks.claim": ("record", {"request_id": "callback"}),
    "callbacks.close": ("record", {"request_id": "callback"}),
    "callbacks.detail": ("record", {"request_id": "callback"}),
    "callbacks.index": ("list", {}),
    "callbacks.keys": ("record", {"office_id": "office"}),
    "callbacks.new": ("record", {"slug": "office_slug"}),
    "callbacks.note": ("record", {"request_id": "callback"}),
    "callbacks.queue": ("record", {"slug": "office_slug"}),
    "callbacks.revoke_key": ("record", {"office_id": "office", "key_id": "key"}),
    "desk.book": ("record", {"slug": "service_slug"}),
    "desk.booked": ("record", {"appointment_id": "appointment"}),
    "desk.index": ("list", {}),
    "notify.message": ("city", {"message_id": 1}),
    "notify.outbox": ("city", {}),
    "notify.retry": ("city", {"message_id": 1}),
    "notify.settings": ("own", {}),
    "privacy.confirm_erase": ("city", {}),
    "privacy.erase": ("city", {}),
    "privacy.export": ("city", {}),
    "privacy.index": ("city", {}),
    "privacy.search": ("city", {}),
    "reports.city": ("city", {}),
    "reports.city_csv": ("city", {"table": "summary"}),
    "reports.index": ("list", {}),
    "reports.office": ("record", {"slug": "office_slug"}),
    "reports.office_csv": ("record", {"slug": "office_slug", "table": "summary"}),
    "reports.operator": ("record", {"slug": "operator_slug"}),
    "reports.operator_csv": ("record", {"slug": "operator_slug", "table": "summary"}),
    "schedule.absence_delete": ("record", {"absence_id": "absence"}),
    "schedule.closure_delete": ("record", {"closure_id": "closure"}),
    "schedule.closures": ("list", {}),
    "schedule.consultation_hours": ("record", {"office_id": "office"}),
    "schedule.consultation_hours_delete": ("record", {"row_id": "consultation_hours"}),
    "schedule.feed": ("own", {}),
    "schedule.feed_renew": ("own", {}),
    "schedule.feed_revoke": ("own", {}),
    "schedule.hours_delete": ("record", {"hours_id": "hours"}),
    "schedule.index": ("list", {}),
    "schedule.my_absences": ("own", {}),
    "schedule.my_calendar": ("own", {}),
    "schedule.my_hours": ("own", {}),
    "schedule.office_calendar": ("record", {"slug": "office_slug"}),
    "schedule.staff_absences": ("record", {"staff_id": "caseworker"}),
    "schedule.staff_calendar": ("record", {"staff_id": "caseworker"}),
    "schedule.staff_hours": ("record", {"staff_id": "caseworker"}),
    "staff.index": ("list", {}),
    "staff.office": ("record", {"slug": "office_slug"}),
    "waiting.appointment": ("record", {"slug": "office_slug"}),
    "waiting.call": ("record", {"slug": "office_slug"}),
    "waiting.index": ("list", {}),
    "waiting.left": ("record", {"slug": "office_slug", "entry_id": "queue_entry"}),
    "waiting.queue": ("record", {"slug": "office_slug"}),
    "waiting.served": ("record", {"slug": "office_slug", "entry_id": "queue_entry"}),
    "waiting.walk_in": ("record", {"slug": "office_slug"}),
    "waitlist.add": ("record", {"slug": "service_slug"}),
    "waitlist.index": ("list", {}),
    "waitlist.service": ("record", {"slug": "service_slug"}),
    # Sample ids (this world has no waiting-list entries or offers yet): the role rule here;
    # the office check is the service's (service_or_403, as for waitlist.service).
    "waitlist.decide": ("city", {"offer_id": 1, "action": "decline"}),
    "waitlist.remove": ("city", {"entry_id": 1}),
}
NOT_WALKED = {"auth.logout"}  # ends the session the walk needs; covered in test_auth


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def app(app_factory):
    app = app_factory(
        STAFF_IDLE_TIMEOUT=LONG, STAFF_ABSOLUTE_TIMEOUT=LONG, PERMANENT_SESSION_LIFETIME=LONG
    )
    with app.app_context():
        yield app


def secrets_of(key: str) -> list[str]:
    """What must never reach the other operator: families' names and numbers, staff names."""
    label = key.capitalize()
    digits = "7770001" if key == "caritas" else "5550001"
    return [
        f"Familie {label}geheim",
        f"Anrufer {label}geheim",
        f"Wartende {label}geheim",
        digits,
        f"Kim {label}kraft",
    ]


@pytest.fixture
def world(make_office, make_service, make_staff):
    admin = make_staff(Role.ADMIN, name="Ada Stadt")
    privacy = make_staff(Role.PRIVACY, name="Dana Datenschutz")
    sides = {}
    for key, operator in OPERATORS.items():
        label = key.capitalize()
        digits = "7770001" if key == "caritas" else "5550001"
        office = make_office(slug=f"wp-{key}", name=f"Welcome Point {label}", operator=operator)
        service = make_service(office, slug=f"beratung-{key}", name=f"Beratung {label}")
        caseworker = make_staff(Role.CASEWORKER, offices=[office], name=f"Kim {label}kraft")
        caseworker.services = [service]
        reception = make_staff(Role.RECEPTION, offices=[office], name=f"Empfang {label}")
        manager = make_staff(Role.OPERATOR_ADMIN, offices=[office], name=f"Leitung {label}")
        hours = WeeklyHours(
            staff_id=caseworker.id,
            office_id=office.id,
            weekday=4,
            start_time=time(9),
            end_time=time(12),
        )
        consultation = ConsultationHours(
            office_id=office.id,
            weekday=3,
            start_time=time(9),
            end_time=time(12),
            staff=[caseworker],
        )
        starts = NOW + timedelta(days=1)
        appointment = Appointment(
            service_id=service.id,
            office_id=office.id,
            staff_id=caseworker.id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            busy_until=starts + timedelta(minutes=30),
            status=AppointmentStatus.BOOKED,
            family_name=f"Familie {label}geheim",
            phone=f"+49211{digits}",
        )
        absence = Absence(
            staff_id=caseworker.id,
            kind=AbsenceKind.VACATION,
            starts_at=NOW + timedelta(days=20),
            ends_at=NOW + timedelta(days=21),
        )
        closure = Closure(
            office_id=office.id,
            first_day=(NOW + timedelta(days=30)).date(),
            last_day=(NOW + timedelta(days=30)).date(),
            reason="Betriebsausflug",
        )
        db.session.add_all([hours, consultation, appointment, absence, closure])
        db.session.commit()  # each service below takes the write lock first
        details = check_caller_details(office, f"Anrufer {label}geheim", f"0211 {digits}")
        callback = create_request(office, details, NOW, actor=reception)
        db.session.commit()
        entry = check_in_walk_in(office, f"Wartende {label}geheim", "", reception, NOW)
        db.session.commit()
        key_row, _secret = create_api_key(office, "Telefonanlage", admin)
        db.session.commit()
        sides[key] = {
            "office": office.id,
            "office_slug": office.slug,
            "operator_slug": "caritasverband-dusseldorf" if key == "caritas" else "diakonie",
            "service": service.id,
            "service_slug": service.slug,
            "caseworker": caseworker.id,
            "appointment": appointment.id,
            "callback": callback.id,
            "queue_entry": entry.id,
            "hours": hours.id,
            "consultation_hours": consultation.id,
            "absence": absence.id,
            "closure": closure.id,
            "key": key_row.id,
            "users": {"caseworker": caseworker, "reception": reception, "manager": manager},
        }
    sides["diakonie"]["operator_slug"] = "diakonie-dusseldorf"
    return {"admin": admin, "privacy": privacy, **sides}


def test_every_staff_route_is_classified(app):
    with app.test_request_context():
        staff_routes = {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if access_rule_for(rule.endpoint) not in (None, PUBLIC)
        }
    assert staff_routes - NOT_WALKED - set(ROUTES) == set(), "classify the new route here"
    assert set(ROUTES) - staff_routes == set(), "a classified route is gone"


def build_urls(app, target: dict):
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if rule.endpoint not in ROUTES:
                continue
            kind, wanted = ROUTES[rule.endpoint]
            values = {arg: target.get(ref, ref) for arg, ref in wanted.items()}
            path = rule.build(values)[1]
            for method in ("GET", "POST"):
                if method in rule.methods:
                    yield rule.endpoint, kind, method, path


USERS = [
    ("admin", None),
    ("privacy", None),
    *((role, side) for side in ("diakonie", "caritas") for role in ("caseworker", "reception")),
    ("manager", "diakonie"),
    ("manager", "caritas"),
]


@pytest.mark.parametrize(("who", "side"), USERS, ids=[f"{w}-{s or 'city'}" for w, s in USERS])
def test_each_role_of_each_operator_walks_every_route(app, client, world, who, side):
    user = world[who] if side is None else world[side]["users"][who]
    assert (
        client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    ).status_code == 302
    own_operator = side is None or side == "caritas"  # the admin's reach is the city
    foreign = [] if side is None else secrets_of("diakonie" if side == "caritas" else "caritas")
    problems = []
    urls = list(build_urls(app, world["caritas"]))
    # Reading first, then changing (a POST may close or move a record the GETs read).
    for endpoint, kind, method, path in sorted(urls, key=lambda url: url[2]):
        rule = access_rule_for_endpoint(app, endpoint)
        if method == "GET":
            response = client.get(path, follow_redirects=True)
        else:
            response = client.post(path, data={})
        status = response.status_code
        body = response.get_data(as_text=True)
        where = f"{method} {path} ({endpoint})"
        if user.role not in rule:
            expected_ok = status == 403
        elif kind == "record" and not own_operator:
            expected_ok = status in (403, 404)
        elif kind == "city":  # sample ids: the role rule is the boundary here
            expected_ok = status not in (403, 500)
        else:
            expected_ok = status not in (403, 404, 500)
        if not expected_ok:
            problems.append(f"{where}: {status}")
        for secret in foreign:
            if secret in body:
                problems.append(f"{where}: shows {secret!r}")
    assert problems == [], "\n".join(problems)


def access_rule_for_endpoint(app, endpoint: str):
    with app.test_request_context():
        return access_rule_for(endpoint)


def test_a_refused_post_changes_nothing(client, world):
    """Diakonie's reception posts to Caritas's records: each stays as it was."""
    user = world["diakonie"]["users"]["reception"]
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    caritas = world["caritas"]
    appointment_id, callback_id = caritas["appointment"], caritas["callback"]
    for path, data in (
        (f"/appointments/{appointment_id}/cancel", {"reason": "Übernahme"}),
        (f"/appointments/{appointment_id}/no-show", {}),
        (f"/appointments/{appointment_id}/note", {"note": "fremd"}),
        (f"/callbacks/{callback_id}/close", {"outcome": "withdrawn"}),
        (f"/callbacks/{callback_id}/note", {"note": "fremd"}),
        (f"/queue/{caritas['office_slug']}/entries/{caritas['queue_entry']}/left", {}),
    ):
        assert client.post(path, data=data).status_code in (403, 404), path
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment_id)
    assert appointment.status == AppointmentStatus.BOOKED
    assert not appointment.internal_note
    assert db.session.get(CallbackRequest, callback_id).closed_at is None
