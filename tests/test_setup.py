import textwrap
from datetime import UTC, datetime, time, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Channel,
)
from booking.auth.models import Role, StaffUser
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.schedule.models import (
    Absence,
    AbsenceKind,
    Closure,
    ConsultationHours,
    WeeklyHours,
)
from booking.setup.cli import DEMO_FILE
from booking.setup.loader import SetupFileError, parse_setup, read_setup_file
from booking.waitlist.models import EntryStatus, OfferState, WaitlistEntry, WaitlistOffer

GOOD = textwrap.dedent(
    """
    [[office]]
    slug = "eingliederungshilfe"
    name = "Eingliederungshilfe nach § 35a SGB VIII"
    kind = "unit"
    district = 3
    address = "Willi-Becker-Allee 7, 40227 Düsseldorf"
    operator = "Jugendamt Düsseldorf"
    phone = "0211 89-95123"

    [[service]]
    slug = "beratung-35a"
    office = "eingliederungshilfe"
    name = "Beratung und Antragsaufnahme"
    minutes = 45
    buffer_minutes = 15
    please_bring = ["Berichte von Schule und Kita", "Personalausweis"]

    [[staff]]
    email = "K.Becker@example.org"
    name = "K. Becker"
    role = "caseworker"
    offices = ["eingliederungshilfe"]
    services = ["beratung-35a"]
    languages = ["de", "en"]
    password = "a long demo password"

    [[hours]]
    staff = "k.becker@example.org"
    office = "eingliederungshilfe"
    days = ["mon", "wed"]
    start = "09:00"
    end = "12:00"
    valid_from = "2026-01-01"
    valid_until = "2027-12-31"

    [[consultation_hours]]
    office = "eingliederungshilfe"
    days = ["tue"]
    start = "14:00"
    end = "16:00"
    staff = ["k.becker@example.org"]
    """
)


def write(tmp_path, text: str, name: str = "setup.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot() -> dict:
    """Every row of every setup table, to prove a second load changes nothing."""
    result = {}
    for model in (Office, Service, StaffUser, WeeklyHours, ConsultationHours):
        rows = db.session.scalars(select(model).order_by(model.id)).all()
        result[model.__name__] = [
            {c.key: getattr(row, c.key) for c in model.__table__.columns} for row in rows
        ]
    result["staff_links"] = [
        (u.email, [o.slug for o in u.offices], [s.slug for s in u.services], u.language_codes)
        for u in db.session.scalars(select(StaffUser).order_by(StaffUser.id))
    ]
    return result


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_load_creates_everything(runner, tmp_path):
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    office = db.session.scalar(select(Office).where(Office.slug == "eingliederungshilfe"))
    assert office.district == 3 and office.operator == "Jugendamt Düsseldorf"
    assert office.phone == "+49 211 8995123"
    service = db.session.scalar(select(Service))
    assert service.bring_items == ["Berichte von Schule und Kita", "Personalausweis"]
    user = db.session.scalar(select(StaffUser))
    assert user.email == "k.becker@example.org"
    assert user.role == Role.CASEWORKER
    assert [s.slug for s in user.services] == ["beratung-35a"]
    assert user.language_codes == ["de", "en"]
    assert user.password_hash.startswith("$argon2id$")
    hours = db.session.scalars(select(WeeklyHours).order_by(WeeklyHours.weekday)).all()
    assert [(h.weekday, h.start_time, h.end_time) for h in hours] == [
        (0, time(9), time(12)),
        (2, time(9), time(12)),
    ]
    consultation = db.session.scalar(select(ConsultationHours))
    assert consultation.weekday == 1 and [u.email for u in consultation.staff] == [user.email]


def test_loading_twice_changes_nothing(runner, tmp_path):
    path = str(write(tmp_path, GOOD))
    runner.invoke(args=["setup", "load", path])
    before = snapshot()
    result = runner.invoke(args=["setup", "load", path])
    assert result.exit_code == 0
    assert "Nothing to change" in result.output
    db.session.expire_all()
    assert snapshot() == before


def test_changed_file_updates_in_place_and_replaces_hours(runner, tmp_path):
    runner.invoke(args=["setup", "load", str(write(tmp_path, GOOD))])
    office_id = db.session.scalar(select(Office.id))
    changed = GOOD.replace('days = ["mon", "wed"]', 'days = ["fri"]').replace(
        'name = "K. Becker"', 'name = "Katrin Becker"'
    )
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, changed, "v2.toml"))])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(Office.id)) == office_id
    assert db.session.scalar(select(StaffUser.name)) == "Katrin Becker"
    assert [h.weekday for h in db.session.scalars(select(WeeklyHours))] == [4]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("minutes = 45", "minuts = 45", '[[service]] #1 (beratung-35a): unknown key "minuts"'),
        ('kind = "unit"', 'kind = "amt"', '"kind" must be one of unit, welcome_point'),
        ("district = 3", "district = 11", '"district" must be between 1 and 10'),
        ('role = "caseworker"', 'role = "boss"', '"role" must be one of'),
        ('start = "09:00"', 'start = "9 Uhr"', '"start" must be a time like "09:00"'),
        ('end = "12:00"', 'end = "08:00"', "start 09:00 must be before end 08:00"),
        ('days = ["tue"]', 'days = ["tuesday"]', "unknown day tuesday"),
        ('valid_until = "2027-12-31"', 'valid_until = "2025-12-31"', "valid_from must not be"),
        ('languages = ["de", "en"]', 'languages = ["de", "xx1"]', 'unknown language code "xx1"'),
        ('email = "K.Becker@example.org"', 'email = "not-an-email"', "no valid email address"),
        ("minutes = 45", 'minutes = "45"', '"minutes" must be a whole number'),
        ('password = "a long demo password"', 'password = "short"', "at least 12 characters"),
        ('phone = "0211 89-95123"', 'phone = "12"', '"12" is no valid phone number'),
        ('"Personalausweis"]', '"Personalausweis", 3]', '"please_bring" must be a list of texts'),
        ('"Personalausweis"]', '"Personal-\\nausweis"]', "texts of one line"),
        ('"Personalausweis"]', f'"{"x" * 201}"]', "longer than 200 characters"),
    ],
)
def test_bad_values_are_refused_naming_the_entry(runner, tmp_path, old, new, message):
    assert old in GOOD
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, GOOD.replace(old, new)))])
    assert result.exit_code == 1
    assert message in result.output
    assert "nothing was written" in result.output
    assert count(Office) == 0 and count(StaffUser) == 0


def test_bad_reference_late_in_the_file_writes_nothing(runner, tmp_path):
    # Everything parses; only applying finds the unknown office, after offices were added.
    bad = GOOD + '\n[[hours]]\nstaff = "k.becker@example.org"\noffice = "nowhere"\n'
    bad += 'days = ["fri"]\nstart = "09:00"\nend = "10:00"\n'
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, bad))])
    assert result.exit_code == 1
    assert "unknown office" in result.output
    db.session.expire_all()
    assert count(Office) == 0 and count(Service) == 0 and count(WeeklyHours) == 0


def test_hours_need_a_caseworker_of_that_office(runner, tmp_path):
    bad = GOOD.replace('role = "caseworker"', 'role = "reception"').replace(
        'services = ["beratung-35a"]\n', ""
    )
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, bad))])
    assert result.exit_code == 1
    assert "weekly hours are for caseworkers only" in result.output


def test_unknown_section_and_duplicates():
    data = {"office": [{"slug": "a"}, {"slug": "a"}], "offices": []}
    with pytest.raises(SetupFileError) as error:
        parse_setup(data)
    text = "\n".join(error.value.problems)
    assert 'unknown section "offices"' in text
    assert '[[office]] #1 (a): "name" is missing' in text


def test_invalid_toml_is_refused(runner, tmp_path):
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, "[[office]\nslug="))])
    assert result.exit_code == 1
    assert "no valid TOML" in result.output


def test_missing_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["setup", "load", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_demo_file_is_valid_and_complete():
    plan = read_setup_file(DEMO_FILE)
    units = [o for o in plan.offices if o.kind == "unit"]
    welcome_points = [o for o in plan.offices if o.kind == "welcome_point"]
    assert len(units) == 1 and units[0].slug == "eingliederungshilfe"
    assert {o.district for o in welcome_points} == set(range(1, 11))
    operators = {o.operator for o in welcome_points}
    for name in ("Diakonie", "Caritas", "SKFM", "JBH", "Gerresheimer Netz gegen Armut"):
        assert any(name in operator for operator in operators), name
    streets = " ".join(o.address for o in welcome_points)
    for street in ("Ratinger Straße", "Gerricusplatz", "Tellerlingstraße", "Niederrheinstraße"):
        assert street in streets
    for office in plan.offices:
        caseworkers = [s for s in plan.staff if s.role == "caseworker" and office.slug in s.offices]
        assert 2 <= len(caseworkers) <= 4, office.slug
    roles = {s.role for s in plan.staff}
    assert roles == {"admin", "caseworker", "reception", "privacy", "operator_admin"}
    # Every office can be called; what to bring is a list, not part of the description.
    assert all(office.phone and office.phone.startswith("+49 211 ") for office in plan.offices)
    assert len({office.phone for office in plan.offices}) == len(plan.offices)
    public = [s for s in plan.services if s.public]
    assert all(service.please_bring for service in public)
    assert not [s.slug for s in plan.services if "bring" in s.description.lower()]


@freeze_time("2027-03-01 07:00:00")
def test_demo_command_loads_once_and_prints_logins(runner):
    first = runner.invoke(args=["setup", "demo"])
    assert first.exit_code == 0, first.output
    assert "admin@example.org" in first.output
    offices = count(Office)
    assert offices == 13
    # Every kind of calendar entry, so that `make run` shows them all.
    statuses = set(db.session.scalars(select(Appointment.status)))
    assert statuses == set(AppointmentStatus)
    assert db.session.scalar(select(AppointmentEvent).where(AppointmentEvent.action == "moved"))
    kinds = set(db.session.scalars(select(Absence.kind)))
    assert kinds == set(AbsenceKind)
    assert db.session.scalar(select(Absence).where(Absence.all_day.is_(False)))  # blocked time
    assert count(Closure) >= 2
    assert count(Appointment) > 30
    # Waiting lists: families waiting at two services, and a time a family cancelled held
    # for the one of them who waited longest for it.
    waiting = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.status == EntryStatus.WAITING)
    ).all()
    assert len({entry.service_id for entry in waiting}) >= 2 and len(waiting) >= 6
    assert {entry.channel for entry in waiting} == set(Channel)
    [offer] = db.session.scalars(
        select(WaitlistOffer).where(WaitlistOffer.state == OfferState.OFFERED)
    ).all()
    assert offer.entry.family_name == "Familie Schulz"
    assert offer.offered_at > offer.entry.joined_at + timedelta(hours=12)  # not at joining
    assert datetime(2027, 3, 1, 7, tzinfo=UTC) < offer.hold_until <= offer.starts_at
    freed = db.session.scalar(
        select(Appointment).where(
            Appointment.service_id == offer.service_id, Appointment.starts_at == offer.starts_at
        )
    )
    assert freed.status == AppointmentStatus.CANCELLED and freed.cancelled_by_family
    assert "waiting lists: 7 families waiting" in first.output
    second = runner.invoke(args=["setup", "demo"])
    assert "demo file not loaded" in second.output
    assert count(Office) == offices
    assert count(WaitlistEntry) == len(waiting)


def test_set_password_command(runner, make_staff):
    user = make_staff()
    old_token = user.session_token
    result = runner.invoke(
        args=["users", "set-password", user.email], input="a new long password\n" * 2
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert user.session_token != old_token
    unknown = runner.invoke(args=["users", "set-password", "x@example.org"], input="p" * 12 + "\n")
    assert unknown.exit_code != 0


def test_create_user_command(runner):
    result = runner.invoke(
        args=["users", "create", "Boss@Example.org", "--name", "Boss"],
        input="a new long password\n" * 2,
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser))
    assert user.email == "boss@example.org" and user.role == Role.ADMIN


@freeze_time("2027-03-01 07:00:00")
def test_demo_skips_a_time_when_the_database_is_busy(runner, monkeypatch):
    """A booking answered "please try again" (another writer held the database) leaves that
    time free, as a time taken meanwhile does; the demo goes on with the next one."""
    from booking.appointments import booking as booking_module
    from booking.core.transactions import DatabaseBusy, busy_message
    from booking.setup import demo_appointments

    calls = []

    def busy_once(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 1:
            raise DatabaseBusy(busy_message())
        return booking_module.book_appointment(*args, **kwargs)

    monkeypatch.setattr(demo_appointments, "book_appointment", busy_once)
    result = runner.invoke(args=["setup", "demo"])
    assert result.exit_code == 0, result.output
    assert len(calls) > 30
    # The refused time was left free; every other one was booked.
    service = db.session.scalar(select(Service).where(Service.slug == "beratung-35a"))
    at = select(Appointment).where(Appointment.service_id == service.id)
    assert not db.session.scalar(at.where(Appointment.starts_at == calls[0]))
    assert db.session.scalar(at.where(Appointment.starts_at == calls[1]))


@freeze_time("2027-03-01 07:00:00")
def test_demo_help_plan_meeting_moves_on_when_the_database_is_busy(runner, monkeypatch):
    """The caseworker's staff-only booking takes the next time when one is refused."""
    from booking.appointments import booking as booking_module
    from booking.core.transactions import DatabaseBusy, busy_message
    from booking.setup import demo_appointments

    calls = []

    def busy_once(service, start, *args, **kwargs):
        if service.slug == "hilfeplangespraech-35a":
            calls.append(start)
            if len(calls) == 1:
                raise DatabaseBusy(busy_message())
        return booking_module.book_appointment(service, start, *args, **kwargs)

    monkeypatch.setattr(demo_appointments, "book_appointment", busy_once)
    result = runner.invoke(args=["setup", "demo"])
    assert result.exit_code == 0, result.output
    assert len(calls) == 2
    service = db.session.scalar(select(Service).where(Service.slug == "hilfeplangespraech-35a"))
    at = select(Appointment).where(Appointment.service_id == service.id)
    assert not db.session.scalar(at.where(Appointment.starts_at == calls[0]))
    assert db.session.scalar(at.where(Appointment.starts_at == calls[1]))
