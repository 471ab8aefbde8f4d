"""Staff calendars on the database: hours, absences, closures, holidays, views, actions, feed."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from icalendar import Calendar
from sqlalchemy import select

from booking.appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Channel,
)
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.extensions import db
from booking.offices.models import OfficeKind
from booking.schedule.models import Absence, AbsenceKind, Closure, ConsultationHours, WeeklyHours
from booking.schedule.services import consultation_calendar, find_free_slots

BERLIN = ZoneInfo("Europe/Berlin")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def unit(make_office, make_service, make_staff):
    """The § 35a unit with two caseworkers (Mon+Thu 09-12), a receptionist and a service."""
    office = make_office(
        slug="eingliederungshilfe",
        name="Eingliederungshilfe",
        kind=OfficeKind.UNIT,
        address="Willi-Becker-Allee 7, 40227 Düsseldorf",
    )
    service = make_service(office, slug="beratung-35a", minutes=45, buffer_minutes=15)
    becker = make_staff(Role.CASEWORKER, offices=[office], name="Katrin Becker")
    ozturk = make_staff(Role.CASEWORKER, offices=[office], name="Murat Öztürk")
    reception = make_staff(Role.RECEPTION, offices=[office], name="Birgit Empfang")
    for user in (becker, ozturk):
        user.services = [service]
        for weekday in (0, 3):
            db.session.add(
                WeeklyHours(
                    staff_id=user.id,
                    office_id=office.id,
                    weekday=weekday,
                    start_time=time(9),
                    end_time=time(12),
                )
            )
    db.session.commit()
    return {
        "office": office,
        "service": service,
        "becker": becker,
        "ozturk": ozturk,
        "reception": reception,
    }


def make_appointment(unit, staff, start: datetime, **values) -> Appointment:
    service = unit["service"]
    appointment = Appointment(
        service_id=service.id,
        office_id=unit["office"].id,
        staff_id=staff.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=service.minutes),
        busy_until=start + timedelta(minutes=service.minutes + service.buffer_minutes),
        family_name=values.pop("family_name", "Familie Yılmaz"),
        email=values.pop("email", "yilmaz@example.org"),
        language=values.pop("language", "tr"),
        interpreter_needed=values.pop("interpreter_needed", True),
        channel=values.pop("channel", Channel.PHONE),
        **values,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 1 March 2027, 08:00 in Düsseldorf


def local_starts(slots) -> list[str]:
    return [s.start.astimezone(BERLIN).strftime("%a %d.%m. %H:%M") for s in slots]


def test_free_slots_pool_both_caseworkers(unit):
    slots = find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW)
    assert local_starts(slots) == ["Thu 04.03. 09:00", "Thu 04.03. 10:00", "Thu 04.03. 11:00"]
    ids = {unit["becker"].id, unit["ozturk"].id}
    assert all(set(s.staff_ids) == ids for s in slots)


def test_appointment_takes_one_caseworker_and_cancel_frees_it(unit):
    becker, ozturk = unit["becker"], unit["ozturk"]
    appointment = make_appointment(unit, becker, at(2027, 3, 4, 10))
    make_appointment(unit, ozturk, at(2027, 3, 4, 10), family_name="Familie Nowak")
    slots = find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW)
    assert local_starts(slots) == ["Thu 04.03. 09:00", "Thu 04.03. 11:00"]
    appointment.cancel("Familie sagt ab", NOW)
    db.session.commit()
    slots = find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW)
    assert [s.staff_ids for s in slots][1] == (becker.id,)


def test_absence_and_unqualified_staff(unit, make_staff):
    db.session.add(
        Absence(
            staff_id=unit["becker"].id,
            kind=AbsenceKind.VACATION,
            starts_at=at(2027, 3, 4, 0),
            ends_at=at(2027, 3, 5, 0),
        )
    )
    db.session.commit()
    slots = find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW)
    assert {s.staff_ids for s in slots} == {(unit["ozturk"].id,)}
    one = find_free_slots(
        unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW, staff_id=unit["becker"].id
    )
    assert one == []


def test_closures_holidays_and_christmas_eve(unit, app):
    db.session.add(
        Closure(
            office_id=None,
            first_day=date(2027, 3, 8),
            last_day=date(2027, 3, 8),
            reason="Personalversammlung",
        )
    )
    db.session.commit()
    service = unit["service"]
    service.horizon_days = 365
    db.session.commit()
    assert find_free_slots(service, date(2027, 3, 8), date(2027, 3, 8), NOW) == []
    # Corpus Christi (Thursday 27 May 2027) is a holiday in NRW.
    assert find_free_slots(service, date(2027, 5, 27), date(2027, 5, 27), NOW) == []
    assert find_free_slots(service, date(2027, 6, 3), date(2027, 6, 3), NOW) != []
    # 24 and 31 December are closed by configuration (both Fridays in 2027: add Friday hours).
    db.session.add(
        WeeklyHours(
            staff_id=unit["becker"].id,
            office_id=unit["office"].id,
            weekday=4,
            start_time=time(9),
            end_time=time(12),
        )
    )
    db.session.commit()
    now = datetime(2027, 12, 1, tzinfo=UTC)

    def fridays() -> set[date]:
        slots = find_free_slots(service, date(2027, 12, 17), date(2027, 12, 31), now)
        days = {s.start.astimezone(BERLIN).date() for s in slots}
        return {day for day in days if day.weekday() == 4}

    assert fridays() == {date(2027, 12, 17)}
    app.config["YEARLY_CLOSED_DAYS"] = []
    assert fridays() == {date(2027, 12, 17), date(2027, 12, 24), date(2027, 12, 31)}


def test_inactive_service_or_office_has_no_slots(unit):
    unit["service"].active = False
    db.session.commit()
    assert find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW) == []


@pytest.mark.parametrize("first", [date(2027, 3, 22), date(2027, 10, 25)])
def test_daylight_saving_weeks_keep_nine_oclock(unit, first):
    now = datetime.combine(first, time(), tzinfo=UTC) - timedelta(days=3)
    slots = find_free_slots(unit["service"], first, first + timedelta(days=13), now)
    assert {s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots} == {
        "09:00",
        "10:00",
        "11:00",
    }
    assert len({s.start.astimezone(BERLIN).utcoffset() for s in slots}) == 2


def test_consultation_calendar_marks_cancelled_dates(unit):
    rule = ConsultationHours(
        office_id=unit["office"].id, weekday=3, start_time=time(14), end_time=time(16)
    )
    rule.staff = [unit["becker"]]
    db.session.add(rule)
    db.session.add(
        Absence(
            staff_id=unit["becker"].id,
            kind=AbsenceKind.TRAINING,
            starts_at=at(2027, 6, 10, 13),
            ends_at=at(2027, 6, 10, 15),
        )
    )
    db.session.commit()
    result = consultation_calendar(unit["office"], date(2027, 5, 27), date(2027, 6, 17))
    assert [(o.start.astimezone(BERLIN).date().day, o.status, o.reason) for o in result] == [
        (27, "cancelled", "holiday"),
        (3, "scheduled", None),
        (10, "cancelled", "nobody_on_duty"),
        (17, "scheduled", None),
    ]


def test_public_office_page_lists_next_consultation_hours(client, unit):
    rule = ConsultationHours(
        office_id=unit["office"].id, weekday=3, start_time=time(14), end_time=time(16)
    )
    rule.staff = [unit["becker"]]
    db.session.add(rule)
    db.session.commit()
    with freeze_time("2027-05-20 12:00:00"):
        html = client.get("/offices/eingliederungshilfe").get_data(as_text=True)
    assert "Donnerstag, 20. Mai 2027, 14:00–16:00" in html
    assert "Donnerstag, 27. Mai 2027, 14:00–16:00" in html
    assert "abgesagt" in html and "Fronleichnam" in html
    assert "Familie" not in html  # nothing personal on a public page


def test_caseworker_day_view_shows_own_appointments_only(client, auth, unit):
    make_appointment(unit, unit["becker"], at(2027, 3, 4, 10))
    make_appointment(unit, unit["ozturk"], at(2027, 3, 4, 9), family_name="Familie Nowak")
    with freeze_time(NOW):
        auth.login(unit["becker"].email)
        html = client.get("/calendar/me?day=2027-03-04").get_data(as_text=True)
    assert "10:00–10:45" in html
    assert "Familie Yılmaz" in html
    assert "Türkisch" in html and "Dolmetschung nötig" in html
    assert "telefonisch" in html
    assert "Familie Nowak" not in html
    assert "09:00–12:00" in html  # working hours for orientation


def test_week_view_in_both_daylight_saving_weeks(client, auth, unit):
    make_appointment(unit, unit["becker"], at(2027, 3, 25, 9))
    make_appointment(unit, unit["becker"], at(2027, 3, 29, 9))
    auth.login(unit["becker"].email)
    html = client.get("/calendar/me?day=2027-03-25&view=week").get_data(as_text=True)
    assert html.count("09:00–09:45") == 1
    html = client.get("/calendar/me?day=2027-03-29&view=week").get_data(as_text=True)
    assert html.count("09:00–09:45") == 1  # after the change: still 09:00 local


def test_reception_sees_the_office_side_by_side(client, auth, unit, make_office, make_staff):
    make_appointment(unit, unit["becker"], at(2027, 3, 4, 10))
    make_appointment(unit, unit["ozturk"], at(2027, 3, 4, 9), family_name="Familie Nowak")
    auth.login(unit["reception"].email)
    html = client.get("/calendar/office/eingliederungshilfe?day=2027-03-04").get_data(as_text=True)
    assert "Katrin Becker" in html and "Murat Öztürk" in html
    assert "Familie Yılmaz" in html and "Familie Nowak" in html
    other = make_office(slug="welcome-point-x")
    assert client.get(f"/calendar/office/{other.slug}").status_code == 403


def test_caseworker_cannot_open_the_office_view_or_others(client, auth, unit):
    auth.login(unit["becker"].email)
    assert client.get("/calendar/office/eingliederungshilfe").status_code == 403
    assert client.get(f"/calendar/staff/{unit['ozturk'].id}").status_code == 403


def test_closed_day_is_shown(client, auth, unit):
    auth.login(unit["reception"].email)
    html = client.get("/calendar/office/eingliederungshilfe?day=2027-05-27").get_data(as_text=True)
    assert "geschlossen: Fronleichnam" in html


def test_mark_attended_no_show_and_log(client, auth, unit):
    appointment = make_appointment(unit, unit["becker"], at(2027, 3, 4, 10))
    path = f"/appointments/{appointment.id}"
    with freeze_time("2027-03-04 08:50:00") as frozen:  # 09:50 local: not started yet
        auth.login(unit["becker"].email)
        client.post(f"{path}/attended")
        db.session.expire_all()
        assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
        frozen.move_to("2027-03-04 09:10:00")
        assert client.get(f"{path}/attended").status_code == 405
        client.post(f"{path}/no-show")
        client.post(f"{path}/attended")  # a correction is allowed
        html = client.get(path).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.ATTENDED
    assert "Als erschienen markiert." in html
    assert "nicht erschienen" in html  # the history keeps the no-show
    actions = [e.action for e in db.session.get(Appointment, appointment.id).events]
    assert actions == ["no_show", "attended"]


def test_cancel_needs_a_reason_and_frees_the_slot(client, auth, unit):
    appointment = make_appointment(unit, unit["becker"], at(2027, 3, 4, 10))
    with freeze_time(NOW):
        auth.login(unit["becker"].email)
        response = client.post(f"/appointments/{appointment.id}/cancel", data={"reason": ""})
        assert response.status_code == 422
        assert "Bitte geben Sie einen Grund" in response.get_data(as_text=True)
        response = client.post(
            f"/appointments/{appointment.id}/cancel", data={"reason": "Fachkraft erkrankt"}
        )
        assert response.status_code == 302
    db.session.expire_all()
    cancelled = db.session.get(Appointment, appointment.id)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancel_reason == "Fachkraft erkrankt"
    assert cancelled.sequence == 1
    slots = find_free_slots(
        unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW, staff_id=unit["becker"].id
    )
    assert "Thu 04.03. 10:00" in local_starts(slots)


def test_internal_note_and_access(client, auth, unit, app):
    appointment = make_appointment(unit, unit["becker"], at(2027, 3, 4, 10))
    auth.login(unit["becker"].email)
    client.post(f"/appointments/{appointment.id}/note", data={"note": "Unterlagen Schule fehlen"})
    db.session.expire_all()
    assert "Unterlagen Schule fehlen" in db.session.get(Appointment, appointment.id).internal_note
    other = app.test_client()
    other.post("/login", data={"email": unit["ozturk"].email, "password": "correct horse battery"})
    assert other.get(f"/appointments/{appointment.id}").status_code == 403
    assert (
        other.post(f"/appointments/{appointment.id}/cancel", data={"reason": "x"}).status_code
        == 403
    )
    viewed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "appointment.viewed")
    ).all()
    assert viewed == []
    client.get(f"/appointments/{appointment.id}")
    viewed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "appointment.viewed")
    ).all()
    assert [(v.actor_id, v.object_id) for v in viewed] == [(unit["becker"].id, str(appointment.id))]


def test_caseworker_manages_own_hours(client, auth, unit):
    auth.login(unit["becker"].email)
    response = client.post(
        "/calendar/hours",
        data={
            "office_id": unit["office"].id,
            "weekdays": ["2", "4"],
            "start": "13:00",
            "end": "15:30",
        },
    )
    assert response.status_code == 302
    rows = db.session.scalars(
        select(WeeklyHours).where(
            WeeklyHours.staff_id == unit["becker"].id, WeeklyHours.weekday.in_([2, 4])
        )
    ).all()
    assert sorted((r.weekday, r.start_time, r.end_time) for r in rows) == [
        (2, time(13), time(15, 30)),
        (4, time(13), time(15, 30)),
    ]
    clash = client.post(
        "/calendar/hours",
        data={"office_id": unit["office"].id, "weekdays": ["0"], "start": "11:00", "end": "13:00"},
    )
    html = clash.get_data(as_text=True)
    assert "überschneidet sich" in html
    assert 'value="11:00"' in html  # the form keeps what was typed
    row_id = rows[0].id
    assert client.post(f"/calendar/hours/{row_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(WeeklyHours, row_id) is None
    ozturk_row = db.session.scalar(
        select(WeeklyHours).where(WeeklyHours.staff_id == unit["ozturk"].id)
    )
    assert client.post(f"/calendar/hours/{ozturk_row.id}/delete").status_code == 403
    assert client.get(f"/calendar/hours/staff/{unit['ozturk'].id}").status_code == 403


def test_admin_manages_someone_elses_hours(client, auth, unit, make_staff):
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    page = client.get(f"/calendar/hours/staff/{unit['ozturk'].id}").get_data(as_text=True)
    assert "Murat Öztürk" in page
    bad = client.post(
        f"/calendar/hours/staff/{unit['ozturk'].id}",
        data={"office_id": unit["office"].id, "weekdays": ["1"], "start": "14:00", "end": "13:00"},
    )
    assert "Der Beginn muss vor dem Ende liegen." in bad.get_data(as_text=True)


def test_whole_day_absence_follows_local_days_across_dst(client, auth, unit):
    with freeze_time("2027-03-20 10:00:00"):
        auth.login(unit["becker"].email)
        response = client.post(
            "/calendar/absences",
            data={"kind": "vacation", "first_day": "2027-03-28", "last_day": "2027-03-28"},
        )
        assert response.status_code == 302
    absence = db.session.scalar(select(Absence))
    assert absence.starts_at == at(2027, 3, 28, 0)
    assert absence.ends_at == at(2027, 3, 29, 0)
    assert absence.ends_at - absence.starts_at == timedelta(hours=23)  # the short day
    assert absence.all_day


def test_absence_warns_about_booked_appointments(client, auth, unit):
    make_appointment(unit, unit["becker"], at(2027, 3, 4, 10))
    with freeze_time(NOW):
        auth.login(unit["becker"].email)
        html = client.post(
            "/calendar/absences",
            data={"kind": "illness", "first_day": "2027-03-04"},
            follow_redirects=True,
        ).get_data(as_text=True)
    reference = db.session.scalar(select(Appointment.reference))
    # Which appointment, so that the caseworker can move it: day, time and reference.
    assert (
        f"1 gebuchter Termin liegt in dieser Abwesenheit: 04.03.2027 10:00 ({reference})." in html
    )


def test_absence_names_every_booked_appointment_in_it(client, auth, unit):
    make_appointment(unit, unit["becker"], at(2027, 3, 4, 10))
    make_appointment(unit, unit["becker"], at(2027, 3, 5, 9))
    with freeze_time(NOW):
        auth.login(unit["becker"].email)
        html = client.post(
            "/calendar/absences",
            data={"kind": "vacation", "first_day": "2027-03-04", "last_day": "2027-03-05"},
            follow_redirects=True,
        ).get_data(as_text=True)
    first, second = db.session.scalars(
        select(Appointment.reference).order_by(Appointment.starts_at)
    ).all()
    assert (
        f"2 gebuchte Termine liegen in dieser Abwesenheit: 04.03.2027 10:00 ({first}), "
        f"05.03.2027 09:00 ({second}). Bitte verlegen oder absagen."
    ) in html


def test_absence_names_the_first_ten_booked_appointments_and_counts_the_rest(client, auth, unit):
    """Flashes live in the session cookie: a long absence over many appointments must not
    outgrow it (the browser would drop the cookie and the warning with it)."""
    for hour in range(12):
        make_appointment(unit, unit["becker"], at(2027, 3, 4, 7) + timedelta(hours=hour))
    with freeze_time(NOW):
        auth.login(unit["becker"].email)
        response = client.post(
            "/calendar/absences", data={"kind": "vacation", "first_day": "2027-03-04"}
        )
        html = client.get(response.headers["Location"]).get_data(as_text=True)
    references = db.session.scalars(
        select(Appointment.reference).order_by(Appointment.starts_at)
    ).all()
    assert "12 gebuchte Termine liegen in dieser Abwesenheit" in html
    assert all(reference in html for reference in references[:10])
    assert not any(reference in html for reference in references[10:])
    assert "(" + references[9] + ") und 2 weitere. Bitte verlegen oder absagen." in html


def test_partial_absence_needs_both_times(client, auth, unit):
    auth.login(unit["becker"].email)
    html = client.post(
        "/calendar/absences",
        data={"kind": "blocked", "first_day": "2027-03-04", "start_time": "10:00"},
    ).get_data(as_text=True)
    assert "Bitte beide Zeiten angeben" in html
    assert db.session.scalar(select(Absence)) is None
    client.post(
        "/calendar/absences",
        data={
            "kind": "blocked",
            "first_day": "2027-03-04",
            "start_time": "10:00",
            "end_time": "11:00",
            "note": "Teamsitzung",
        },
    )
    absence = db.session.scalar(select(Absence))
    assert (absence.starts_at, absence.ends_at, absence.all_day) == (
        at(2027, 3, 4, 10),
        at(2027, 3, 4, 11),
        False,
    )
    slots = find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW)
    ten = [s for s in slots if s.start == at(2027, 3, 4, 10)]
    assert ten[0].staff_ids == (unit["ozturk"].id,)


def test_admin_closures(client, auth, unit, make_staff):
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    response = client.post(
        "/admin/closures",
        data={"office_id": unit["office"].id, "first_day": "2027-03-04", "reason": "Umzug"},
    )
    assert response.status_code == 302
    closure = db.session.scalar(select(Closure))
    assert (closure.first_day, closure.last_day) == (date(2027, 3, 4), date(2027, 3, 4))
    assert find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW) == []
    bad = client.post(
        "/admin/closures",
        data={"office_id": 0, "first_day": "2027-03-05", "last_day": "2027-03-01", "reason": "x"},
    )
    assert "Der letzte Tag darf nicht vor dem ersten liegen." in bad.get_data(as_text=True)
    client.post(f"/admin/closures/{closure.id}/delete")
    assert find_free_slots(unit["service"], date(2027, 3, 4), date(2027, 3, 4), NOW) != []


def test_calendar_feed_shows_times_not_families(client, auth, unit, app):
    appointment = make_appointment(unit, unit["becker"], at(2027, 3, 29, 9))
    auth.login(unit["becker"].email)
    page = client.post("/calendar/feed/renew").get_data(as_text=True)
    url = page.split('id="feed-url" readonly value="')[1].split('"')[0]
    path = url.replace("http://localhost", "")
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    db.session.expire_all()
    assert unit["becker"].calendar_token_hash not in (None, token)
    anonymous = app.test_client()
    with freeze_time("2027-03-20 10:00:00"):
        response = anonymous.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "Yılmaz" not in body and "yilmaz@example.org" not in body
    calendar = Calendar.from_ical(response.get_data())
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1
    event = events[0]
    assert appointment.reference in str(event["summary"])
    assert event.decoded("dtstart") == at(2027, 3, 29, 9)
    assert event.decoded("dtstart").astimezone(BERLIN).hour == 9
    # Renewing switches the old address off; revoking switches every address off.
    client.post("/calendar/feed/renew")
    assert anonymous.get(path).status_code == 404
    client.post("/calendar/feed/revoke")
    db.session.expire_all()
    assert unit["becker"].calendar_token_hash is None


def test_admin_sets_up_consultation_hours(client, auth, unit, make_staff):
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    office_id = unit["office"].id
    response = client.post(
        f"/admin/offices/{office_id}/consultation-hours",
        data={
            "weekdays": ["1"],
            "start": "14:00",
            "end": "16:00",
            "staff_ids": [str(unit["becker"].id)],
        },
    )
    assert response.status_code == 302
    row = db.session.scalar(select(ConsultationHours))
    assert (row.weekday, row.start_time, [u.id for u in row.staff]) == (
        1,
        time(14),
        [unit["becker"].id],
    )
    with freeze_time("2027-03-01 10:00:00"):
        html = client.get("/offices/eingliederungshilfe").get_data(as_text=True)
    assert "Dienstag, 2. März 2027, 14:00–16:00" in html
    bad = client.post(
        f"/admin/offices/{office_id}/consultation-hours",
        data={"weekdays": ["2"], "start": "16:00", "end": "14:00"},
    )
    assert "Der Beginn muss vor dem Ende liegen." in bad.get_data(as_text=True)
    client.post(f"/admin/consultation-hours/{row.id}/delete")
    assert db.session.scalar(select(ConsultationHours)) is None


@pytest.fixture
def busy_week(unit, make_staff):
    """Week of 1 March 2027 with every kind of calendar entry for the unit."""
    becker, ozturk = unit["becker"], unit["ozturk"]
    db.session.add_all(
        [
            Absence(
                staff_id=ozturk.id,
                kind=AbsenceKind.ILLNESS,
                starts_at=at(2027, 3, 4, 0),
                ends_at=at(2027, 3, 5, 0),
            ),
            Absence(
                staff_id=becker.id,
                kind=AbsenceKind.BLOCKED,
                starts_at=at(2027, 3, 4, 11),
                ends_at=at(2027, 3, 4, 12),
                all_day=False,
                note="Teamsitzung",
            ),
            Closure(
                office_id=unit["office"].id,
                first_day=date(2027, 3, 5),
                last_day=date(2027, 3, 5),
                reason="Betriebsausflug",
            ),
        ]
    )
    make_appointment(unit, becker, at(2027, 3, 4, 9), family_name="Familie Gebucht")
    cancelled = make_appointment(unit, becker, at(2027, 3, 4, 10), family_name="Familie Abgesagt")
    cancelled.cancel("Familie sagt ab", NOW)
    no_show = make_appointment(unit, becker, at(2027, 3, 1, 9), family_name="Familie Fehlt")
    no_show.status = AppointmentStatus.NO_SHOW
    moved = make_appointment(unit, ozturk, at(2027, 3, 1, 10), family_name="Familie Verlegt")
    moved.events.append(AppointmentEvent(action="moved", detail="from 2027-03-01 08:00 UTC"))
    db.session.commit()
    return unit


CALENDAR_VIEWS = [
    ("becker", "/calendar/me?day=2027-03-04"),
    ("becker", "/calendar/me?day=2027-03-04&view=week"),
    ("reception", "/calendar/office/eingliederungshilfe?day=2027-03-04"),
    ("reception", "/calendar/office/eingliederungshilfe?day=2027-03-04&view=week"),
    ("admin", "/calendar/staff/{ozturk}?day=2027-03-04"),
    ("admin", "/calendar/staff/{ozturk}?day=2027-03-01&view=week"),
]


@pytest.mark.parametrize(("who", "path"), CALENDAR_VIEWS)
def test_calendars_show_absences_blocked_time_and_closures(
    client, auth, busy_week, make_staff, who, path
):
    user = busy_week.get(who) or make_staff(Role.ADMIN, name="Andrea Admin")
    with freeze_time(NOW):
        auth.login(user.email)
        response = client.get(path.format(ozturk=busy_week["ozturk"].id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if who != "becker":
        assert "Krankheit" in html
    if who != "admin":
        assert "Geblockte Zeit (interne Besprechung)" in html and "Teamsitzung" in html
    if "week" in path:
        assert "Betriebsausflug" in html


def test_week_calendar_shows_moved_and_no_show_and_hides_cancelled(client, auth, busy_week):
    path = "/calendar/office/eingliederungshilfe?day=2027-03-04&view=week"
    with freeze_time(NOW):
        auth.login(busy_week["reception"].email)
        html = client.get(path).get_data(as_text=True)
        assert "Familie Gebucht" in html
        assert "Familie Fehlt" in html and "nicht erschienen" in html
        assert "Familie Verlegt" in html and "verlegt" in html
        assert "Familie Abgesagt" not in html  # hidden unless asked
        assert "cancelled=1" in html  # the link that shows them
        shown = client.get(path + "&cancelled=1").get_data(as_text=True)
    assert "Familie Abgesagt" in shown and "abgesagt" in shown
    assert "cancelled=1" in shown.split("Familie Abgesagt")[0]  # navigation keeps the choice


def test_calendars_count_appointments(client, auth, busy_week):
    with freeze_time(NOW):
        auth.login(busy_week["reception"].email)
        html = client.get("/calendar/office/eingliederungshilfe?day=2027-03-04").get_data(
            as_text=True
        )
    # One booked appointment that day (the cancelled one does not count), one for Becker.
    assert "1 Termin" in html
    assert "1 abgesagt" in html


def test_after_login_caseworker_and_reception_land_on_their_day(client, auth, unit, make_staff):
    response = auth.login(unit["becker"].email, follow_redirects=True)
    assert response.request.path == "/calendar/me"
    assert "Kalender von Katrin Becker" in response.get_data(as_text=True)
    auth.logout()
    response = auth.login(unit["reception"].email, follow_redirects=True)
    assert response.request.path == "/calendar/office/eingliederungshilfe"
    auth.logout()
    nowhere = make_staff(Role.RECEPTION, offices=[])
    assert auth.login(nowhere.email).headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200  # "My offices" stays a page of its own


def ids_on(html: str) -> list[str]:
    return re.findall(r'\sid="([^"]+)"', html)


def test_pages_with_several_forms_have_unique_ids(client, auth, busy_week):
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.family_name == "Familie Gebucht")
    )
    with freeze_time(NOW):
        auth.login(busy_week["becker"].email)
        pages = [
            "/calendar/absences",
            "/calendar/hours",
            f"/appointments/{appointment.id}",
            "/calendar/me?day=2027-03-04&view=week",
        ]
        for path in pages:
            html = client.get(path).get_data(as_text=True)
            assert html.count("<form") >= 2, path
            ids = ids_on(html)
            assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))


def test_first_field_in_error_gets_the_focus_without_javascript(client, auth, unit):
    auth.login(unit["becker"].email)
    html = client.post(
        "/calendar/absences", data={"kind": "vacation", "first_day": "", "note": "x" * 201}
    ).get_data(as_text=True)
    assert html.count("autofocus") == 1
    assert re.search(r'<input [^>]*autofocus[^>]*id="first_day"', html)
    office_id = unit["office"].id
    html = client.post("/calendar/hours", data={"office_id": office_id, "start": "09:00"}).get_data(
        as_text=True
    )
    assert html.count("autofocus") == 1
    assert re.search(r'<input [^>]*autofocus[^>]*id="weekdays-0"', html)  # the first box
    assert "autofocus" not in client.get("/calendar/hours").get_data(as_text=True)


def test_history_shows_labels_and_local_times(client, auth, busy_week):
    query = select(Appointment).where(Appointment.family_name == "Familie Verlegt")
    moved = db.session.scalar(query)
    moved.events.append(AppointmentEvent(action="booked", detail="phone"))
    db.session.commit()
    with freeze_time(NOW):
        auth.login(busy_week["ozturk"].email)
        html = client.get(f"/appointments/{moved.id}").get_data(as_text=True)
    assert "verlegt (vorher: 01.03.2027 09:00)" in html  # 08:00 UTC is 09:00 in Düsseldorf
    assert "gebucht (telefonisch)" in html
    assert "UTC" not in html and "(phone)" not in html
