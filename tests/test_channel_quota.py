"""Channel quotas: a share of each day's times is kept for phone and desk bookings and opens
to online booking a number of real hours before (across daylight-saving changes too)."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.appointments.booking import (
    NotReleased,
    book_appointment,
    check_family_details,
)
from booking.appointments.models import Appointment, Channel
from booking.auth.models import Role
from booking.extensions import db
from booking.schedule.engine import (
    BookingRules,
    HoursRule,
    grid_starts,
    phone_held_starts,
    release_ts,
    unreleased,
)
from booking.schedule.models import WeeklyHours
from booking.schedule.services import held_for_phone

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday after the change to summer time (Sunday 28 March 2027, 02:00 -> 03:00; the Monday
# between is Easter Monday, a public holiday).
TUESDAY = date(2027, 3, 30)
TIMES = [datetime.combine(TUESDAY, time(8), BERLIN) + timedelta(minutes=30 * n) for n in range(10)]
NINE, HALF_PAST_ELEVEN = TIMES[2], TIMES[7]
API = "/api/v1/slots?service=quota&from=2027-03-30&to=2027-03-30"


def at(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime.combine(day, time(hour, minute), BERLIN).timestamp())


def test_held_times_are_spread_over_the_day_and_rounded_half_up():
    grid = [at(TUESDAY, 8) + 1800 * n for n in range(10)]
    assert phone_held_starts(grid, 20) == {grid[2], grid[7]}  # not the last two
    assert phone_held_starts(grid, 0) == frozenset()
    assert phone_held_starts(grid, 100) == set(grid)
    assert len(phone_held_starts(grid, 15)) == 2  # 1.5 rounds up
    assert len(phone_held_starts(grid, 14)) == 1
    assert phone_held_starts(grid, 10) == {grid[5]}  # the middle of the day
    # Each day on its own: two days of ten times at 20 % keep two times each.
    tuesday = [at(TUESDAY + timedelta(days=1), 8) + 1800 * n for n in range(10)]
    assert phone_held_starts(grid + tuesday, 20) == {grid[2], grid[7], tuesday[2], tuesday[7]}


def test_the_grid_does_not_move_with_bookings_or_the_clock():
    rules = BookingRules(minutes=30, min_notice_hours=24, horizon_days=10)
    hours = [HoursRule(1, 1, time(8), time(13))]
    grid = grid_starts(rules, TUESDAY, TUESDAY, hours, [])
    assert grid == [int(t.timestamp()) for t in TIMES]
    assert grid_starts(rules, TUESDAY, TUESDAY, hours, [TUESDAY]) == []  # closed


def test_release_counts_real_hours_across_the_change_to_summer_time():
    nine = int(NINE.timestamp())
    # 72 real hours before Tuesday 09:00 CEST is Saturday 08:00 CET (07:00 UTC), not 09:00.
    assert release_ts(nine, 72) == int(datetime(2027, 3, 27, 7, tzinfo=UTC).timestamp())
    assert unreleased({nine}, datetime(2027, 3, 27, 6, 59, tzinfo=UTC), 72) == {nine}
    assert unreleased({nine}, datetime(2027, 3, 27, 7, 0, tzinfo=UTC), 72) == frozenset()
    with pytest.raises(ValueError):
        unreleased({nine}, datetime(2027, 3, 27, 7), 72)


@pytest.fixture
def quota_service(make_office, make_service, make_staff):
    office = make_office(slug="wp-quota")
    service = make_service(
        office, slug="quota", minutes=30, phone_quota_percent=20, release_hours_before=72
    )
    user = make_staff(Role.CASEWORKER, offices=[office])
    user.services = [service]
    db.session.add(
        WeeklyHours(
            staff_id=user.id, office_id=office.id, weekday=1, start_time=time(8), end_time=time(13)
        )
    )
    db.session.commit()
    return service


def api_starts(client) -> list[str]:
    response = client.get(API)
    assert response.status_code == 200
    return [slot["start"] for slot in response.json["slots"]]


def family(n: int = 1):
    return check_family_details(f"Familie {n}", f"f{n}@example.org", None, "de", False, "")


def test_online_sees_held_times_only_from_their_release_across_dst(client, quota_service):
    with freeze_time("2027-03-25 12:00:00"):
        starts = api_starts(client)
        assert NINE.isoformat() not in starts and HALF_PAST_ELEVEN.isoformat() not in starts
        assert len(starts) == 8
    with freeze_time("2027-03-27 06:59:00"):  # Saturday 07:59 CET
        assert NINE.isoformat() not in api_starts(client)
    with freeze_time("2027-03-27 07:00:00"):  # 72 real hours before Tuesday 09:00 CEST
        starts = api_starts(client)
        assert NINE.isoformat() in starts and HALF_PAST_ELEVEN.isoformat() not in starts
    with freeze_time("2027-03-27 09:30:00"):
        assert len(api_starts(client)) == 10


def booking_body(start: datetime) -> dict:
    return {
        "service": "quota",
        "start": start.isoformat(),
        "name": "Familie Haddad",
        "email": "haddad@example.org",
        "privacy_consent": True,
    }


def test_the_api_refuses_a_held_time_with_a_code_until_it_is_released(client, quota_service):
    with freeze_time("2027-03-25 12:00:00"):
        response = client.post("/api/v1/bookings", json=booking_body(NINE))
        assert response.status_code == 409
        assert response.json == {"error": "slot_not_released"}
        assert db.session.scalar(select(Appointment)) is None
    with freeze_time("2027-03-27 07:00:00"):
        response = client.post("/api/v1/bookings", json=booking_body(NINE))
        assert response.status_code == 201


@freeze_time("2027-03-25 12:00:00")
def test_the_public_pages_hide_held_times_and_refuse_them(client, quota_service):
    page = client.get("/book/quota?week=2027-03-29").get_data(as_text=True)
    assert TIMES[1].isoformat() in page
    assert NINE.isoformat() not in page and HALF_PAST_ELEVEN.isoformat() not in page
    response = client.post(
        "/book/quota/details",
        data={
            "start": NINE.isoformat(),
            "name": "Familie Haddad",
            "email": "haddad@example.org",
            "language": "de",
            "privacy_consent": "y",
            "form_key": "k" * 20,
        },
    )
    assert response.status_code == 409
    assert "für Buchungen per Telefon oder am Empfang reserviert" in response.get_data(as_text=True)
    assert db.session.scalar(select(Appointment)) is None


@freeze_time("2027-03-25 12:00:00")
def test_staff_see_and_book_held_times_marked_and_the_choice_stays_put(
    client, auth, make_staff, quota_service
):
    reception = make_staff(Role.RECEPTION, offices=[quota_service.office])
    auth.login(reception.email)
    page = client.get("/desk/book/quota?week=2027-03-29").get_data(as_text=True)
    options = dict(re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]*)</option>', page))
    assert options[NINE.isoformat()].endswith("– nur Telefon und Empfang")
    assert "–" not in options[TIMES[1].isoformat()]
    response = client.post(
        "/desk/book/quota",
        data={"start": NINE.isoformat(), "channel": "phone", "name": "Familie P", "language": "de"},
    )
    assert response.status_code == 302
    booked = db.session.scalar(select(Appointment))
    assert booked.starts_at == NINE and booked.channel == Channel.PHONE
    # Booking one changes nothing about which others are kept (the grid, not the free times).
    now = datetime(2027, 3, 25, 12, tzinfo=UTC)
    assert held_for_phone(quota_service, TUESDAY, TUESDAY, now) == {
        int(NINE.timestamp()),
        int(HALF_PAST_ELEVEN.timestamp()),
    }
    with pytest.raises(NotReleased):
        book_appointment(quota_service, HALF_PAST_ELEVEN, family(), now)
    db.session.rollback()
    # The desk books online-channel times as well; staff are never held back.
    book_appointment(
        quota_service, HALF_PAST_ELEVEN, family(2), now, channel=Channel.DESK, actor=reception
    )
    db.session.commit()


@freeze_time("2027-03-25 12:00:00")
def test_setup_file_and_admin_form_take_the_quota(app, runner, tmp_path, make_staff, auth, client):
    setup = tmp_path / "setup.toml"
    setup.write_text(
        """
[[office]]
slug = "wp-x"
name = "WP X"
kind = "welcome_point"
address = "Straße 1"
operator = "Stadt"

[[service]]
slug = "x-beratung"
office = "wp-x"
name = "Beratung"
minutes = 30
phone_quota_percent = 25
release_hours_before = 72
""",
        encoding="utf-8",
    )
    result = runner.invoke(args=["setup", "load", str(setup)])
    assert result.exit_code == 0, result.output
    from booking.offices.models import Service

    service = db.session.scalar(select(Service).where(Service.slug == "x-beratung"))
    assert (service.phone_quota_percent, service.release_hours_before) == (25, 72)
    setup.write_text(setup.read_text().replace("= 25", "= 101"), encoding="utf-8")
    result = runner.invoke(args=["setup", "load", str(setup)])
    assert result.exit_code != 0 and "phone_quota_percent" in result.output

    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    form = client.get(f"/admin/services/{service.id}/edit").get_data(as_text=True)
    assert 'name="phone_quota_percent"' in form and 'name="release_hours_before"' in form
    data = {
        "office_id": str(service.office_id),
        "name": "Beratung",
        "slug": "x-beratung",
        "minutes": "30",
        "phone_quota_percent": "10",
        "release_hours_before": "24",
        "public": "y",
    }
    response = client.post(f"/admin/services/{service.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert (service.phone_quota_percent, service.release_hours_before) == (10, 24)
    data["phone_quota_percent"] = "150"
    refused = client.post(f"/admin/services/{service.id}/edit", data=data)
    assert refused.status_code == 200 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert service.phone_quota_percent == 10


def test_statistics_show_phone_and_desk_bookings_against_the_quota(app):
    from booking.reports.stats import AppointmentFact, Period, compute
    from booking.reports.tables import build_tables

    def fact(service_id: int, channel: str, status: str = "attended") -> AppointmentFact:
        when = datetime(2027, 3, 10, 9, tzinfo=UTC)
        return AppointmentFact(1, service_id, when, when, channel, status, None, "de", False)

    facts = [fact(1, "phone")] * 3 + [fact(1, "desk")] * 2 + [fact(1, "online")] * 5
    facts += [fact(1, "phone", "cancelled"), fact(2, "online")]
    period = Period(date(2027, 3, 1), date(2027, 3, 31))
    figures = compute(period, datetime(2027, 4, 2, tzinfo=UTC), facts, [], [])
    with app.test_request_context("/?lang=en"):
        tables = build_tables(figures, {1: "A", 2: "B"}, {1: "X"}, period.months(), {1: 20})
        [quota] = [table for table in tables if table.key == "quota"]
        [(name, cells)] = quota.rows
        assert name == "A"
        assert [cell.value for cell in cells] == [0.2, 10.0, 5.0, 0.5]
        # Without a quota anywhere the table is left out.
        tables = build_tables(figures, {1: "A", 2: "B"}, {1: "X"}, period.months())
        assert "quota" not in [table.key for table in tables]
