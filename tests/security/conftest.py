"""A small city for attack tests: two offices of two operators, their staff and one record of
every kind per caseworker or office, made through the services at a frozen Monday morning.

Office A (the § 35a unit) has caseworkers A1 and A2 and reception RA; office B (a Welcome
Point of another operator) has caseworker B1 and reception RB. Each caseworker has weekly
hours, an absence and a booked appointment (A2 also a cancelled one); each office has a
callback request and a walk-in in today's queue.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text

from booking.appointments.booking import FamilyDetails, book_appointment, cancel_by_family
from booking.appointments.models import Appointment, Channel
from booking.auth.models import Role, StaffUser
from booking.callbacks.services import CallerDetails, create_request
from booking.extensions import db
from booking.offices.models import OfficeKind
from booking.schedule.models import Absence, AbsenceKind, ConsultationHours, WeeklyHours
from booking.waiting.models import QueueKind
from booking.waiting.services import _add_entry
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"  # Monday 08:00 in Düsseldorf
THURSDAY = date(2027, 3, 4)


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


@dataclass
class World:
    """Ids and names only (the objects belong to the session that made them)."""

    office: dict[str, int] = field(default_factory=dict)
    slug: dict[str, str] = field(default_factory=dict)
    service_slug: dict[str, str] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)
    email: dict[str, str] = field(default_factory=dict)
    appointment: dict[str, int] = field(default_factory=dict)
    token: dict[str, str] = field(default_factory=dict)
    family_name: dict[str, str] = field(default_factory=dict)
    callback: dict[str, int] = field(default_factory=dict)
    queue_entry: dict[str, int] = field(default_factory=dict)
    hours: dict[str, int] = field(default_factory=dict)
    absence: dict[str, int] = field(default_factory=dict)

    def office_of(self, who: str) -> str:
        """'A' or 'B' for a person or record key like 'A1', 'RB', 'A2-cancelled'."""
        return who.lstrip("R")[0]


def build_world(now: datetime, make_office, make_service, make_staff) -> World:
    world = World()
    offices = {
        "A": make_office(
            slug="eingliederungshilfe",
            name="Eingliederungshilfe",
            kind=OfficeKind.UNIT,
            address="Willi-Becker-Allee 7, 40227 Düsseldorf",
            operator="Jugendamt Düsseldorf",
        ),
        "B": make_office(
            slug="welcome-point-ratinger-strasse",
            name="Welcome Point Ratinger Straße",
            kind=OfficeKind.WELCOME_POINT,
            address="Ratinger Straße 9, 40213 Düsseldorf",
            operator="Diakonie Düsseldorf",
        ),
    }
    services = {
        key: make_service(
            office,
            slug=f"beratung-{key.lower()}",
            name=f"Beratung {key}",
            minutes=45,
            buffer_minutes=15,
        )
        for key, office in offices.items()
    }
    people = {
        "admin": (Role.ADMIN, None),
        "privacy": (Role.PRIVACY, None),
        "A1": (Role.CASEWORKER, "A"),
        "A2": (Role.CASEWORKER, "A"),
        "B1": (Role.CASEWORKER, "B"),
        "RA": (Role.RECEPTION, "A"),
        "RB": (Role.RECEPTION, "B"),
    }
    for key, (role, office_key) in people.items():
        user = make_staff(
            role,
            offices=[offices[office_key]] if office_key else [],
            email=f"{key.lower()}@example.org",
            name=f"Staff {key}",
        )
        if role == Role.CASEWORKER:
            user.services = [services[office_key]]
        world.staff[key] = user.id
        world.email[key] = user.email
        if role == Role.CASEWORKER:
            hours = WeeklyHours(
                staff_id=user.id,
                office_id=offices[office_key].id,
                weekday=3,
                start_time=time(9),
                end_time=time(12),
            )
            absence = Absence(
                staff_id=user.id,
                kind=AbsenceKind.TRAINING,
                starts_at=berlin(date(2027, 4, 1), 0).astimezone(UTC),
                ends_at=berlin(date(2027, 4, 2), 0).astimezone(UTC),
                note=f"Fortbildung {key}",
            )
            db.session.add_all([hours, absence])
            db.session.flush()
            world.hours[key] = hours.id
            world.absence[key] = absence.id
    for key, office in offices.items():
        world.office[key] = office.id
        world.slug[key] = office.slug
        world.service_slug[key] = services[key].slug
        # Open consultation hours on Mondays, so the queue takes walk-ins now.
        on_duty = [db.session.get(StaffUser, world.staff[f"{key}1"])]
        db.session.add(
            ConsultationHours(
                office_id=office.id,
                weekday=0,
                start_time=time(8),
                end_time=time(12),
                staff=on_duty,
            )
        )
    db.session.flush()
    start = {"A1": 9, "A2": 10, "B1": 9}
    for key, hour in start.items():
        family = FamilyDetails(
            name=f"Familie {key}-Geheim",
            email=f"familie-{key.lower()}@example.org",
            phone="+4917612345678",
            note=f"Notiz {key}",
        )
        db.session.commit()  # each service call is a transaction of its own, as in a request
        booked = book_appointment(
            services[key[0]],
            berlin(THURSDAY, hour),
            family,
            now,
            channel=Channel.ONLINE,
            staff_id=world.staff[key],
        )
        world.appointment[key] = booked.appointment.id
        world.token[key] = booked.manage_token
        world.family_name[key] = family.name
    db.session.commit()
    cancelled = book_appointment(
        services["A"],
        berlin(THURSDAY, 11),
        FamilyDetails(name="Familie A2c-Geheim", email="a2c@example.org", phone=None),
        now,
        staff_id=world.staff["A2"],
    )
    db.session.commit()
    cancel_by_family(cancelled.appointment, now)
    world.appointment["A2-cancelled"] = cancelled.appointment.id
    world.family_name["A2-cancelled"] = "Familie A2c-Geheim"
    for key, office in offices.items():
        db.session.commit()
        request = create_request(
            office,
            CallerDetails(name=f"Anrufer {key}-Geheim", phone="+4921189912345", note="Rückruf"),
            now,
        )
        world.callback[key] = request.id
        world.family_name[f"callback-{key}"] = f"Anrufer {key}-Geheim"
        reception = db.session.get(StaffUser, world.staff[f"R{key}"])
        db.session.commit()
        entry = _add_entry(office, QueueKind.WALK_IN, reception, now, name=f"Wartend {key}")
        world.queue_entry[key] = entry.id
    db.session.commit()
    return world


@pytest.fixture
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def world(app, clock, make_office, make_service, make_staff) -> World:
    return build_world(datetime.now(UTC), make_office, make_service, make_staff)


def login(app, who: str, world: World, address: str = "192.0.2.10"):
    """A client of its own, logged in as `who` ('A1', 'RB', 'admin', ...)."""
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": world.email[who], "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.status_code == 302, f"{who} could not log in"
    return client


# Tables that change without any record changing: who logged in, the audit log itself.
VOLATILE_TABLES = {"audit_event", "audit_purge_marker", "staff_user"}


def snapshot() -> str:
    """A digest of every row of every table (the audit log and logins aside)."""
    db.session.commit()
    digest = hashlib.sha256()
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
        users = connection.execute(
            text("SELECT id, email, name, role, active, password_hash FROM staff_user ORDER BY id")
        ).all()
        digest.update(repr(users).encode())
    return digest.hexdigest()


def appointment(appointment_id: int) -> Appointment:
    db.session.commit()
    return db.session.get(Appointment, appointment_id)
