"""The public JSON API v1: the contract the city's website depends on."""

import json
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from booking.api.models import IdempotentAnswer
from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import StaffUser
from booking.extensions import db
from booking.schedule.models import ConsultationHours

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"
SLOT = "2027-03-04T10:00:00+01:00"


def body(**values) -> dict:
    data = {
        "service": "beratung-35a",
        "start": SLOT,
        "name": "Familie Haddad",
        "email": "haddad@example.org",
        "language": "ar",
        "interpreter": True,
        "note": "",
        "privacy_consent": True,
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def api(client, bookable_service):
    return client


@freeze_time(NOW)
def test_offices(api, bookable_service, make_service):
    make_service(bookable_service.office, slug="intern", public=False)
    response = api.get("/api/v1/offices")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    [office] = response.json
    assert office == {
        "slug": "eingliederungshilfe",
        "name": "Eingliederungshilfe",
        "kind": "unit",
        "district": None,
        "address": "Willi-Becker-Allee 7, 40227 Düsseldorf",
        "operator": "Diakonie Düsseldorf",
        "services": [
            {"slug": "beratung-35a", "name": "Beratung und Antragsaufnahme", "minutes": 45}
        ],
    }


@freeze_time(NOW)
def test_slots(api):
    response = api.get("/api/v1/slots?service=beratung-35a&from=2027-03-01&to=2027-03-07")
    assert response.status_code == 200
    assert response.json == {
        "service": "beratung-35a",
        "timezone": "Europe/Berlin",
        "slots": [
            {"start": "2027-03-04T09:00:00+01:00", "end": "2027-03-04T09:45:00+01:00"},
            {"start": "2027-03-04T10:00:00+01:00", "end": "2027-03-04T10:45:00+01:00"},
            {"start": "2027-03-04T11:00:00+01:00", "end": "2027-03-04T11:45:00+01:00"},
        ],
    }


@freeze_time(NOW)
def test_slots_after_the_change_to_summer_time(api):
    response = api.get("/api/v1/slots?service=beratung-35a&from=2027-03-29&to=2027-04-04")
    assert response.json["slots"][0] == {
        "start": "2027-04-01T09:00:00+02:00",
        "end": "2027-04-01T09:45:00+02:00",
    }


@freeze_time(NOW)
@pytest.mark.parametrize(
    "query",
    [
        "from=2027-03-01&to=2027-03-07",
        "service=beratung-35a&to=2027-03-07",
        "service=beratung-35a&from=2027-03-01",
        "service=beratung-35a&from=1.3.2027&to=2027-03-07",
        "service=beratung-35a&from=2027-03-07&to=2027-03-01",
        "service=beratung-35a&from=2027-03-01&to=2027-06-01",  # 93 days
    ],
)
def test_slots_bad_parameters_are_400(api, query):
    response = api.get(f"/api/v1/slots?{query}")
    assert response.status_code == 400
    assert isinstance(response.json["error"], str)


@freeze_time(NOW)
def test_slots_range_of_exactly_92_days_is_fine(api):
    response = api.get("/api/v1/slots?service=beratung-35a&from=2027-03-01&to=2027-05-31")
    assert response.status_code == 200


@freeze_time(NOW)
def test_slots_unknown_or_staff_only_service_is_404(api, bookable_service):
    assert api.get("/api/v1/slots?service=nope&from=2027-03-01&to=2027-03-02").status_code == 404
    bookable_service.public = False
    db.session.commit()
    response = api.get("/api/v1/slots?service=beratung-35a&from=2027-03-01&to=2027-03-02")
    assert response.status_code == 404
    assert response.json == {"error": "unknown service"}


@freeze_time(NOW)
def test_book_read_move_cancel(api):
    created = api.post("/api/v1/bookings", json=body())
    assert created.status_code == 201, created.json
    data = created.json
    token = data.pop("manage_token")
    reference = data.pop("reference")
    assert data == {
        "service": "beratung-35a",
        "office": "eingliederungshilfe",
        "start": SLOT,
        "end": "2027-03-04T10:45:00+01:00",
        "status": "booked",
    }
    assert "Set-Cookie" not in created.headers
    read = api.get(f"/api/v1/bookings/{token}")
    assert read.status_code == 200
    assert read.json == {**data, "reference": reference}
    moved = api.post(f"/api/v1/bookings/{token}/move", json={"start": "2027-03-04T11:00:00+01:00"})
    assert moved.status_code == 200, moved.json
    new_token = moved.json["manage_token"]
    assert new_token != token
    assert moved.json["start"] == "2027-03-04T11:00:00+01:00"
    assert api.get(f"/api/v1/bookings/{token}").status_code == 404
    cancelled = api.post(f"/api/v1/bookings/{new_token}/cancel")
    assert cancelled.status_code == 200 and cancelled.json == {"status": "cancelled"}
    assert api.get(f"/api/v1/bookings/{new_token}").json["status"] == "cancelled"
    slots = api.get("/api/v1/slots?service=beratung-35a&from=2027-03-04&to=2027-03-04").json
    assert {"start": "2027-03-04T11:00:00+01:00", "end": "2027-03-04T11:45:00+01:00"} in slots[
        "slots"
    ]


@freeze_time(NOW)
@pytest.mark.parametrize("start", ["2027-03-04T10:00:00.5+01:00", "2027-03-04T10:00:01+01:00"])
def test_a_start_a_fraction_past_a_slot_is_no_slot(api, start):
    response = api.post("/api/v1/bookings", json=body(start=start))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"start"}
    # The slots around it are still on offer and can be booked.
    slots = api.get("/api/v1/slots?service=beratung-35a&from=2027-03-04&to=2027-03-04").json
    assert [slot["start"][11:16] for slot in slots["slots"]] == ["09:00", "10:00", "11:00"]
    for hour in ("10", "11"):
        later = body(start=f"2027-03-04T{hour}:00:00+01:00", email=f"h{hour}@example.org")
        assert api.post("/api/v1/bookings", json=later).status_code == 201


@freeze_time(NOW)
def test_slot_taken_is_409(api):
    assert api.post("/api/v1/bookings", json=body()).status_code == 201
    response = api.post("/api/v1/bookings", json=body(email="other@example.org"))
    assert response.status_code == 409
    assert response.json == {"error": "slot_taken"}


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"email": None}, "contact"),
        ({"privacy_consent": False}, "privacy_consent"),
        ({"privacy_consent": None}, "privacy_consent"),
        ({"email": "not-an-address"}, "email"),
        ({"email": None, "phone": "123"}, "phone"),
        ({"start": "2027-03-04T10:10:00+01:00"}, "start"),
        ({"start": "2027-03-06T10:00:00+01:00"}, "start"),  # Saturday: no slot time
        ({"start": "2027-03-04T10:00:00"}, "start"),  # no offset
        ({"note": "x" * 501}, "note"),
        ({"service": "nope"}, "service"),
        ({"name": ""}, "name"),
        ({"interpreter": "yes"}, "interpreter"),
    ],
)
def test_invalid_fields_are_422(api, values, field):
    response = api.post("/api/v1/bookings", json=body(**values))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert db.session.scalar(select(Appointment)) is None


@freeze_time(NOW)
def test_malformed_and_non_json_bodies(api):
    bad = api.post("/api/v1/bookings", data="{not json", content_type="application/json")
    assert bad.status_code == 400 and "error" in bad.json
    not_object = api.post("/api/v1/bookings", json=[1, 2])
    assert not_object.status_code == 400
    form = api.post("/api/v1/bookings", data={"service": "beratung-35a"})
    assert form.status_code == 415 and "error" in form.json


@freeze_time(NOW)
def test_errors_are_json(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json == {"error": "not_found"}
    assert api.get("/api/v1/bookings").status_code == 405


@freeze_time(NOW)
def test_unknown_token_is_404(api):
    assert api.get("/api/v1/bookings/unknown").status_code == 404
    assert api.post("/api/v1/bookings/unknown/cancel").status_code == 404


def test_cancel_inside_the_notice_is_refused(api):
    with freeze_time(NOW):
        token = api.post("/api/v1/bookings", json=body()).json["manage_token"]
    with freeze_time("2027-03-03 12:00:00"):
        response = api.post(f"/api/v1/bookings/{token}/cancel")
        assert response.status_code == 409 and response.json == {"error": "too_late"}
    assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.BOOKED


def test_token_expires_after_the_appointment(api):
    with freeze_time(NOW):
        token = api.post("/api/v1/bookings", json=body()).json["manage_token"]
    with freeze_time("2027-03-04 10:00:00"):
        assert api.get(f"/api/v1/bookings/{token}").status_code == 404


@freeze_time(NOW)
def test_booking_is_rate_limited(app_factory, bookable_service):
    client = app_factory().test_client()
    codes = [client.post("/api/v1/bookings", json={}).status_code for _ in range(11)]
    assert codes[:10] == [422] * 10
    assert codes[10] == 429
    assert client.post("/api/v1/bookings", json={}).json == {"error": "rate_limited"}


@freeze_time(NOW)
def test_rate_limits_can_be_switched_off(app_factory, bookable_service):
    client = app_factory(RATELIMIT_ENABLED=False).test_client()
    assert {client.post("/api/v1/bookings", json={}).status_code for _ in range(15)} == {422}


@freeze_time("2027-05-20 10:00:00")
def test_consultation_hours(api, bookable_service):
    rule = ConsultationHours(
        office_id=bookable_service.office_id,
        weekday=3,
        start_time=datetime(2027, 1, 1, 14).time(),
        end_time=datetime(2027, 1, 1, 16).time(),
    )
    rule.staff = [db.session.scalar(select(StaffUser))]  # the fixture's one caseworker
    db.session.add(rule)
    db.session.commit()
    response = api.get(
        "/api/v1/consultation-hours?office=eingliederungshilfe&from=2027-05-20&to=2027-06-03"
    )
    assert response.status_code == 200
    assert response.json["office"] == "eingliederungshilfe"
    assert response.json["timezone"] == "Europe/Berlin"
    items = [
        (o["start"], o["end"], o["status"], o["reason"])
        for o in response.json["consultation_hours"]
    ]
    assert items == [
        ("2027-05-20T14:00:00+02:00", "2027-05-20T16:00:00+02:00", "scheduled", None),
        ("2027-05-27T14:00:00+02:00", "2027-05-27T16:00:00+02:00", "cancelled", "holiday"),
        ("2027-06-03T14:00:00+02:00", "2027-06-03T16:00:00+02:00", "scheduled", None),
    ]
    assert (
        api.get("/api/v1/consultation-hours?office=x&from=2027-05-20&to=2027-05-21").status_code
        == 404
    )
    assert (
        api.get("/api/v1/consultation-hours?office=eingliederungshilfe&from=2027-05-20").status_code
        == 400
    )


def test_openapi_document_describes_every_route(api, app):
    document = api.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    routes = {
        rule.rule.removeprefix("/api/v1").replace("<token>", "{manage_token}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("api.", "callbacks_api.")) and rule.endpoint != "api.openapi"
    }
    assert routes == set(document["paths"])


# Safe retries: the Idempotency-Key header.


def post_with_key(client, path, key, json=None):
    return client.post(path, json=json, headers={"Idempotency-Key": key})


def appointment_count() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Appointment))


@freeze_time(NOW)
def test_a_retry_with_the_same_key_gets_the_first_answer(api):
    first = post_with_key(api, "/api/v1/bookings", "retry-1", body())
    again = post_with_key(api, "/api/v1/bookings", "retry-1", body())
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.json["manage_token"]
    assert appointment_count() == 1
    # The token of the replayed answer is the real one.
    assert api.get(f"/api/v1/bookings/{again.json['manage_token']}").status_code == 200
    # Key order and spacing of the JSON do not matter; its content does.
    reordered = dict(reversed(list(body().items())))
    assert post_with_key(api, "/api/v1/bookings", "retry-1", reordered).json == first.json
    other = post_with_key(api, "/api/v1/bookings", "retry-1", body(name="Familie Nowak"))
    assert other.status_code == 422
    assert other.json == {"error": "idempotency_key_reused"}
    assert appointment_count() == 1


@freeze_time(NOW)
def test_refusals_are_not_kept_and_keys_count_per_endpoint(api):
    token = post_with_key(api, "/api/v1/bookings", "first", body()).json["manage_token"]
    # A refusal is not kept: a retry with the key asks again.
    other = body(email="nowak@example.org")
    assert post_with_key(api, "/api/v1/bookings", "second", other).status_code == 409
    assert api.post(f"/api/v1/bookings/{token}/cancel").status_code == 200
    assert post_with_key(api, "/api/v1/bookings", "second", other).status_code == 201
    # The key of a booking is another key on the cancel endpoint.
    retry = body(start="2027-03-04T11:00:00+01:00", email="x@example.org")
    token = post_with_key(api, "/api/v1/bookings", "third", retry).json["manage_token"]
    cancelled = post_with_key(api, f"/api/v1/bookings/{token}/cancel", "third")
    assert cancelled.status_code == 200 and cancelled.json == {"status": "cancelled"}
    assert post_with_key(api, f"/api/v1/bookings/{token}/cancel", "third").json == {
        "status": "cancelled"
    }


@freeze_time(NOW)
def test_a_retried_move_moves_once(api):
    token = api.post("/api/v1/bookings", json=body()).json["manage_token"]
    to_eleven = {"start": "2027-03-04T11:00:00+01:00"}
    moved = post_with_key(api, f"/api/v1/bookings/{token}/move", "move-1", to_eleven)
    again = post_with_key(api, f"/api/v1/bookings/{token}/move", "move-1", to_eleven)
    assert moved.status_code == again.status_code == 200
    assert again.json == moved.json
    appointment = db.session.scalar(select(Appointment))
    assert appointment.sequence == 1
    assert (
        api.get(f"/api/v1/bookings/{moved.json['manage_token']}")
        .json["start"]
        .startswith("2027-03-04T11:00")
    )
    to_nine = {"start": "2027-03-04T09:00:00+01:00"}
    reused = post_with_key(api, f"/api/v1/bookings/{token}/move", "move-1", to_nine)
    assert reused.status_code == 422 and reused.json == {"error": "idempotency_key_reused"}


@pytest.mark.parametrize("key", ["", " ", "with space", "x" * 65, "tab\there", "ümlaut"])
@freeze_time(NOW)
def test_a_bad_idempotency_key_is_400(api, key):
    response = api.post(
        "/api/v1/bookings",
        json=body(),
        headers={"Idempotency-Key": key.encode().decode("latin-1")},
    )
    assert response.status_code == 400
    assert response.json == {"error": "invalid_idempotency_key"}
    assert appointment_count() == 0


@freeze_time(NOW)
def test_sixty_four_visible_characters_are_a_key(api):
    key = "".join(chr(c) for c in range(0x21, 0x7F))[:64]
    assert post_with_key(api, "/api/v1/bookings", key, body()).status_code == 201


def test_a_key_is_kept_for_24_hours(api):
    with freeze_time(NOW):
        first = post_with_key(api, "/api/v1/bookings", "day", body())
    with freeze_time("2027-03-02 06:59:59"):
        assert post_with_key(api, "/api/v1/bookings", "day", body()).json == first.json
    with freeze_time("2027-03-02 07:00:01"):  # forgotten: a new request (the slot is taken)
        assert post_with_key(api, "/api/v1/bookings", "day", body()).status_code == 409
        later = body(start="2027-03-04T11:00:00+01:00", email="z@example.org")
        assert post_with_key(api, "/api/v1/bookings", "day", later).status_code == 201


@freeze_time(NOW)
def test_what_is_kept_for_a_retry_holds_no_readable_token(api):
    token = post_with_key(api, "/api/v1/bookings", "secret", body()).json["manage_token"]
    db.session.commit()
    [answer] = db.session.scalars(select(IdempotentAnswer)).all()
    stored = " ".join(str(getattr(answer, c.key)) for c in IdempotentAnswer.__table__.columns)
    assert token not in stored
    assert answer.status == 201 and "manage_token" not in answer.body


@freeze_time(NOW)
def test_concurrent_requests_with_one_key_book_once(app_factory, bookable_service):
    app = app_factory(RATELIMIT_ENABLED=False)
    racers = 6
    barrier = threading.Barrier(racers)
    answers: list = [None] * racers

    def race(index):
        client = app.test_client()
        barrier.wait()
        response = post_with_key(client, "/api/v1/bookings", "race", body())
        answers[index] = (response.status_code, response.json)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert {status for status, _ in answers} == {201}, answers
    assert len({json.dumps(answer, sort_keys=True) for _, answer in answers}) == 1
    with app.app_context():
        assert appointment_count() == 1


@freeze_time(NOW)
def test_the_answer_needs_no_database_after_the_commit(app_factory, bookable_service):
    """The connection drops right after the commit: the family still gets the booking."""
    app = app_factory()
    dropped = []

    def on_commit(conn):
        dropped.append(True)  # the commit itself still goes through

    def before_execute(conn, cursor, statement, parameters, context, executemany):
        if dropped:
            raise OperationalError(statement, parameters, Exception("connection lost"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "before_cursor_execute", before_execute)
    try:
        response = app.test_client().post("/api/v1/bookings", json=body())
    finally:
        event.remove(engine, "before_cursor_execute", before_execute)
        event.remove(engine, "commit", on_commit)
    assert dropped
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["manage_token"] and response.json["start"] == SLOT
    with app.app_context():
        assert appointment_count() == 1
