"""Hostile input gets 400, 404 or 422 in the page's or the API's own format, never a 500.

Each test here failed before the fix it names (a 500 or an exception out of the view).
"""

import json

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.auth.models import Role
from booking.core.converters import MAX_ID, id_arg, parse_date, parse_instant
from booking.extensions import db

NOW = "2027-03-01 07:00:00"
SLOT = "2027-03-04T10:00:00+01:00"


def api_body(**values) -> dict:
    data = {
        "service": "beratung-35a",
        "start": SLOT,
        "name": "Familie Haddad",
        "email": "haddad@example.org",
        "privacy_consent": True,
    }
    data.update(values)
    return data


def form_data(**values) -> dict:
    data = {
        "start": SLOT,
        "name": "Familie Haddad",
        "email": "haddad@example.org",
        "language": "de",
        "privacy_consent": "y",
    }
    data.update(values)
    return data


def assert_page(response, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<main id="main"' in html  # the app's layout, not Werkzeug's bare page
    return html


def assert_html_error(response, status: int) -> None:
    assert f": {status}</p>" in assert_page(response, status)  # the error page with its code


def assert_api_error(response, status: int) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert isinstance(response.json.get("error"), str) or isinstance(
        response.json.get("errors"), dict
    )


def appointment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


@freeze_time(NOW)
def test_nul_in_a_booking_form_field_is_refused(client, bookable_service):
    response = client.post("/book/beratung-35a/details", data=form_data(name="Haddad\x00"))
    assert_html_error(response, 400)
    assert appointment_count() == 0


@freeze_time(NOW)
def test_nul_in_a_path_or_query_is_refused(client, bookable_service):
    assert_html_error(client.get("/book/beratung-35a%00"), 400)
    assert_html_error(client.get("/book/beratung-35a?week=2027-03-08%00"), 400)
    assert_api_error(client.get("/api/v1/bookings/abc%00def"), 400)


@freeze_time(NOW)
def test_nul_in_api_json_is_refused(client, bookable_service):
    response = client.post("/api/v1/bookings", json=api_body(name="Haddad\x00"))
    assert_api_error(response, 400)
    assert response.json == {"error": "bad_request"}
    assert appointment_count() == 0


@freeze_time(NOW)
def test_lone_surrogate_in_api_json_is_refused(client, bookable_service):
    raw = json.dumps(api_body()).replace("Familie Haddad", "Familie \\ud800")
    response = client.post("/api/v1/bookings", data=raw, content_type="application/json")
    assert_api_error(response, 400)
    assert appointment_count() == 0


@freeze_time(NOW)
def test_deeply_nested_json_is_refused(client, bookable_service):
    raw = '{"service": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.post("/api/v1/bookings", data=raw, content_type="application/json")
    assert_api_error(response, 400)
    moderately = '{"note": ' + "[" * 40 + "]" * 40 + "}"
    response = client.post("/api/v1/bookings", data=moderately, content_type="application/json")
    assert_api_error(response, 400)


@freeze_time(NOW)
@pytest.mark.parametrize(
    "field, value",
    [("name", 42), ("service", 7), ("start", 1700000000), ("interpreter", "yes"), ("email", [])],
)
def test_wrong_json_types_get_field_errors(client, bookable_service, field, value):
    response = client.post("/api/v1/bookings", json=api_body(**{field: value}))
    assert_api_error(response, 422)
    assert field in response.json["errors"]
    assert appointment_count() == 0


@freeze_time(NOW)
@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "9999-12-27"])
def test_week_far_outside_the_calendar_shows_the_first_week(client, bookable_service, week):
    response = client.get(f"/book/beratung-35a?week={week}")
    assert response.status_code == 200
    assert "10:00" in response.get_data(as_text=True)


@freeze_time(NOW)
@pytest.mark.parametrize(
    "dates", [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31"), ("2027-03-01", "9999")]
)
def test_api_dates_far_outside_the_calendar_are_bad_requests(client, bookable_service, dates):
    first, last = dates
    response = client.get(f"/api/v1/slots?service=beratung-35a&from={first}&to={last}")
    assert_api_error(response, 400)
    response = client.get(
        f"/api/v1/consultation-hours?office=eingliederungshilfe&from={first}&to={last}"
    )
    assert_api_error(response, 400)


@freeze_time(NOW)
@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_start_far_outside_the_calendar_is_no_slot(client, bookable_service, start):
    response = client.post("/api/v1/bookings", json=api_body(start=start))
    assert_api_error(response, 422)
    assert "start" in response.json["errors"]
    page = client.get("/book/beratung-35a/details", query_string={"start": start})
    assert_page(page, 400)


@freeze_time(NOW)
def test_over_long_form_key_is_refused_without_a_database_error(client, bookable_service):
    response = client.post("/book/beratung-35a/details", data=form_data(form_key="k" * 5000))
    assert_page(response, 422)
    assert appointment_count() == 0


def test_huge_ids_in_staff_urls_are_not_found(client, auth, make_staff, make_office):
    office = make_office()
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    for number in (2**70, 2**31, "9" * 5000):
        assert_html_error(client.get(f"/admin/offices/{number}/edit"), 404)
        assert_html_error(client.get(f"/appointments/{number}"), 404)
        assert_html_error(client.get(f"/calendar/staff/{number}"), 404)
        assert_html_error(client.post(f"/admin/services/{number}/deactivate"), 404)
    assert client.get(f"/admin/offices/{office.id}/edit").status_code == 200


def test_huge_ids_in_staff_queries_are_ignored(client, auth, make_staff, make_office):
    make_office()
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    assert client.get(f"/admin/audit?page={2**70}").status_code == 200
    assert client.get(f"/admin/services/new?office={2**70}").status_code == 200


def test_calendar_day_far_outside_the_calendar_shows_today(client, auth, make_staff):
    user = make_staff(Role.CASEWORKER)
    auth.login(user.email)
    for day in ("9999-12-31", "0001-01-01"):
        for view in ("day", "week"):
            response = client.get(f"/calendar/me?day={day}&view={view}")
            assert response.status_code == 200


def test_absence_dates_far_outside_the_calendar_get_a_form_message(client, auth, make_staff):
    user = make_staff(Role.CASEWORKER)
    auth.login(user.email)
    response = client.post(
        "/calendar/absences",
        data={"kind": "vacation", "first_day": "9999-12-31", "last_day": "9999-12-31"},
    )
    assert response.status_code in (200, 422)
    assert "2000" in response.get_data(as_text=True)


def test_helpers_refuse_what_the_app_cannot_compute_with():
    assert parse_date("2027-03-30").year == 2027
    assert parse_date("9999-12-31") is None
    assert parse_date("0001-01-01") is None
    assert parse_date("2027-03-30\x00") is None
    assert parse_instant("2027-03-30T09:00:00+02:00").hour == 9
    assert parse_instant("2027-03-30T09:00:00") is None
    assert parse_instant("9999-12-31T23:59:59-14:00") is None
    assert id_arg("12") == 12
    for text in ("0", "-1", str(MAX_ID + 1), "1" * 5000, "١٢", " 12"):
        with pytest.raises(ValueError):
            id_arg(text)


def test_staff_edit_without_the_languages_field_keeps_them(client, auth, make_staff):
    """Found by the route fuzzer: the form took the user's language rows as its text (500)."""
    admin = make_staff(Role.ADMIN)
    user = make_staff(Role.CASEWORKER, name="Katrin Becker")
    user.language_codes = ["de", "ar"]
    db.session.commit()
    auth.login(admin.email)
    response = client.post(
        f"/admin/staff/{user.id}/edit",
        data={"name": "Katrin Becker", "email": user.email, "role": "caseworker"},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert sorted(user.language_codes) == ["ar", "de"]


@pytest.mark.parametrize("day", ['"9999-12-31"', "9999-12-31", '"0001-01-01"'])
def test_setup_file_dates_far_outside_the_calendar_are_refused(runner, tmp_path, day):
    from tests.test_setup import GOOD, write

    bad = GOOD.replace('valid_until = "2027-12-31"', f"valid_until = {day}")
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, bad))])
    assert result.exit_code == 1
    assert '"valid_until" must be a date like "2026-01-31" (years 2000 to 2100)' in result.output
