"""POST /api/v1/callbacks: every answer the issue names, the key's life, the CLI, OpenAPI."""

import json
from datetime import datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.callbacks.due import BERLIN
from booking.callbacks.models import CallbackApiKey, CallbackRequest, CallbackSource
from booking.callbacks.services import create_api_key, revoke_api_key
from booking.extensions import db

NOW = datetime(2027, 3, 25, 10, 30, tzinfo=BERLIN)
URL = "/api/v1/callbacks"


@pytest.fixture
def offices(make_office, make_service):
    office = make_office(slug="eingliederungshilfe")
    other = make_office(slug="welcome-point")
    make_service(office, slug="beratung-35a")
    make_service(other, slug="wp-beratung")
    key, secret = create_api_key(office, "Telefonanlage", None)
    other_key, other_secret = create_api_key(other, "Kontaktcenter", None)
    db.session.commit()
    return {
        "office": office,
        "other": other,
        "key": key,
        "secret": secret,
        "other_key": other_key,
        "other_secret": other_secret,
    }


def post(client, secret, body, **kwargs):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    headers.update(kwargs.pop("headers", {}))
    if "data" not in kwargs:
        kwargs["json"] = body
    return client.post(URL, headers=headers, **kwargs)


def body(**values):
    data = {"office": "eingliederungshilfe", "name": "Familie Yılmaz", "phone": "0211 1234567"}
    data.update(values)
    return data


def test_201_with_e164_and_berlin_times(client, offices):
    with freeze_time(NOW):
        response = post(
            client,
            offices["secret"],
            body(topic="beratung-35a", language="ar", interpreter=True, note="Antrag"),
        )
    assert response.status_code == 201
    data = response.get_json()
    created = db.session.scalars(select(CallbackRequest)).one()
    assert data == {
        "reference": created.reference,
        "office": "eingliederungshilfe",
        "status": "new",
        "phone": "+492111234567",
        "received_at": "2027-03-25T10:30:00+01:00",
        "due_at": "2027-03-31T16:00:00+02:00",
    }
    assert created.source == CallbackSource.API
    assert created.service.slug == "beratung-35a"
    assert created.language == "ar" and created.interpreter_needed
    assert created.api_key_id == offices["key"].id
    db.session.refresh(offices["key"])
    assert offices["key"].last_used_at is not None


def test_urgent_and_other_topic(client, offices):
    with freeze_time(NOW):
        response = post(client, offices["secret"], body(topic="other", urgent=True))
    assert response.status_code == 201
    assert response.get_json()["due_at"] == "2027-03-30T16:00:00+02:00"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "bearer  "])
def test_401_without_a_valid_key(client, offices, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.post(URL, json=body(), headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized"}


def test_401_for_a_revoked_key(client, offices):
    revoke_api_key(offices["key"], None, NOW)
    db.session.commit()
    response = post(client, offices["secret"], body())
    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized"}


def test_401_comes_before_looking_at_the_body(client, offices):
    response = client.post(URL, data="not json", content_type="text/plain")
    assert response.status_code == 401


def test_403_for_a_key_of_another_office(client, offices):
    response = post(client, offices["other_secret"], body())
    assert response.status_code == 403
    assert response.get_json() == {"error": "forbidden"}
    response = post(client, offices["secret"], body(office="nowhere"))
    assert response.status_code == 403
    assert db.session.scalars(select(CallbackRequest)).all() == []


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"phone": "12"}, {"phone"}),
        ({"phone": "not a number"}, {"phone"}),
        ({"phone": ""}, {"phone"}),
        ({"name": ""}, {"name"}),
        ({"name": "x" * 121}, {"name"}),
        ({"topic": "wp-beratung"}, {"topic"}),
        ({"topic": "unknown"}, {"topic"}),
        ({"language": "xx-yy"}, {"language"}),
        ({"note": "x" * 501}, {"note"}),
        ({"urgent": "yes"}, {"urgent"}),
        ({"interpreter": 1}, {"interpreter"}),
        ({"name": 5, "phone": ["0211"]}, {"name", "phone"}),
    ],
)
def test_422_names_the_fields(client, offices, values, fields):
    response = post(client, offices["secret"], body(**values))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == fields
    assert db.session.scalars(select(CallbackRequest)).all() == []


def test_control_characters_are_refused_not_stored(client, offices):
    response = post(client, offices["secret"], body(phone="0211 1234567\x00"))
    assert response.status_code in (400, 422)
    assert "error" in response.get_json() or "errors" in response.get_json()
    assert db.session.scalars(select(CallbackRequest)).all() == []


def test_422_for_missing_fields(client, offices):
    response = post(client, offices["secret"], {"office": "eingliederungshilfe"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"name", "phone"}
    response = post(client, offices["secret"], {"name": "x", "phone": "0211 1234567"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"office"}


def test_400_for_malformed_json(client, offices):
    response = post(client, offices["secret"], None, data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.get_json()
    response = post(client, offices["secret"], None, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_415_for_a_body_that_is_not_json(client, offices):
    response = post(
        client, offices["secret"], None, data=json.dumps(body()), content_type="text/plain"
    )
    assert response.status_code == 415
    assert "error" in response.get_json()


def test_deeply_nested_json_is_no_500(client, offices):
    nested = "[" * 5000 + "]" * 5000
    response = post(
        client,
        offices["secret"],
        None,
        data='{"office": "eingliederungshilfe", "name": ' + nested + "}",
        content_type="application/json",
    )
    assert response.status_code in (400, 422)


def test_429_when_a_key_sends_too_much(app_factory, database_uri):
    app = app_factory()
    with app.app_context():
        from booking.offices.models import Office, OfficeKind

        office = Office(
            slug="eingliederungshilfe", name="E", kind=OfficeKind.UNIT, address="a", operator="o"
        )
        db.session.add(office)
        _key, secret = create_api_key(office, "x", None)
        db.session.commit()
        client = app.test_client()
        statuses = [post(client, secret, body(phone="")).status_code for _ in range(61)]
        assert statuses[:60] == [422] * 60
        assert statuses[60] == 429
        last = post(client, secret, body(phone=""))
        assert last.get_json() == {"error": "rate_limited"}
        # Made-up keys are counted per address too.
        made_up = [post(client, f"cb_guess{n}", body()).status_code for n in range(300)]
        first_refused = made_up.index(429)
        assert set(made_up[:first_refused]) == {401} and set(made_up[first_refused:]) == {429}


def test_the_cli_prints_a_working_key_as_its_last_line(app, client, runner, offices):
    result = runner.invoke(args=["callbacks", "new-key", "eingliederungshilfe"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("cb_")
    keys = db.session.scalars(select(CallbackApiKey)).all()
    assert len(keys) == 3 and all(secret not in key.key_hash for key in keys)
    assert post(client, secret, body()).status_code == 201


def test_the_cli_refuses_an_unknown_office(runner, offices):
    result = runner.invoke(args=["callbacks", "new-key", "nowhere"])
    assert result.exit_code == 1
    assert len(db.session.scalars(select(CallbackApiKey)).all()) == 2


def test_the_openapi_document_describes_the_endpoint(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/callbacks"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "401", "403", "415", "422", "429"}
    assert document["components"]["securitySchemes"]["officeKey"]["scheme"] == "bearer"
    assert document["components"]["schemas"]["CallbackNew"]["required"] == [
        "office",
        "name",
        "phone",
    ]


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(client, offices):
    headers = {"Idempotency-Key": "call-4711"}
    first = post(client, offices["secret"], body(), headers=headers)
    again = post(client, offices["secret"], body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 1


def test_the_same_idempotency_key_for_another_request_is_refused(client, offices):
    headers = {"Idempotency-Key": "call-4711"}
    assert post(client, offices["secret"], body(), headers=headers).status_code == 201
    response = post(client, offices["secret"], body(name="Andere Familie"), headers=headers)
    assert response.status_code == 422
    assert response.get_json() == {"error": "idempotency_key_reused"}
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 1


def test_idempotency_keys_count_per_telephone_system_and_after_the_key_check(client, offices):
    headers = {"Idempotency-Key": "1"}
    mine = post(client, offices["secret"], body(), headers=headers)
    theirs = post(client, offices["other_secret"], body(office="welcome-point"), headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["reference"] != theirs.get_json()["reference"]
    # Without a valid key nothing is replayed, whatever the Idempotency-Key.
    stranger = post(client, "cb_wrong", body(), headers=headers)
    assert stranger.status_code == 401 and "reference" not in stranger.get_json()


def test_a_refusal_is_not_kept_for_the_key(client, offices):
    headers = {"Idempotency-Key": "retry-me"}
    assert post(client, offices["secret"], body(phone="12"), headers=headers).status_code == 422
    assert post(client, offices["secret"], body(), headers=headers).status_code == 201


@pytest.mark.parametrize("value", ["", "x" * 65, "with space", "ümlaut"])
def test_a_bad_idempotency_key_is_400(client, offices, value):
    response = post(client, offices["secret"], body(), headers={"Idempotency-Key": value})
    assert response.status_code == 400
    assert db.session.scalars(select(CallbackRequest)).all() == []


def test_field_messages_follow_accept_language(client, offices):
    from flask_babel import force_locale, gettext

    turkish = {"Accept-Language": "tr"}
    topic = post(client, offices["secret"], body(topic="unknown"), headers=turkish)
    name = post(client, offices["secret"], body(name=""), headers=turkish)
    assert topic.status_code == name.status_code == 422
    with client.application.test_request_context(), force_locale("tr"):
        expected_topic = gettext("Please choose one of this office's services or “other”.")
        expected_name = gettext("Please enter a name.")
    assert expected_topic != "Please choose one of this office's services or “other”."
    assert topic.get_json()["errors"] == {"topic": expected_topic}
    assert name.get_json()["errors"] == {"name": expected_name}
