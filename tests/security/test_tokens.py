"""Manage links and other secret tokens: not guessable, dead after a move, only hashed in the
database, never in a log line, and never sent to another host as a Referer."""

import io
import logging
import re
import secrets

import pytest
from sqlalchemy import select, text

from booking.appointments.models import AppointmentStatus
from booking.extensions import db
from tests.security.conftest import appointment, login

PUBLIC = "https://termine.example.test"
NEXT_WEEK = "2027-03-11T10:00:00+01:00"


@pytest.fixture
def app(app_factory):
    app = app_factory(PUBLIC_BASE_URL=PUBLIC)
    with app.app_context():
        yield app


def variants(token: str) -> list[str]:
    """Near misses of a real token: a lookup must match it exactly or not at all."""
    return [
        token[:-1],
        token + "A",
        token[1:],
        token.swapcase(),
        token.upper(),
        f" {token}",
        f"{token}%00",
        token.replace("-", "_") if "-" in token else token + "-",
        "%" + token.encode().hex(),
        "' OR '1'='1",
        "*",
        "%25",
        "",
    ]


def test_guessed_manage_tokens_never_hit_and_are_rate_limited(app, world):
    client = app.test_client()
    real = world.token["A1"]
    answers = []
    for guess in [*variants(real), *(secrets.token_urlsafe(24) for _ in range(30))]:
        answers.append(client.get(f"/manage/{guess}").status_code)
    assert 200 not in answers
    assert set(answers[:30]) <= {400, 404, 308}
    assert answers[-1] == 429  # 30 a minute per address
    # The real token still works from another address: the limit is the guesser's.
    family = app.test_client()
    page = family.get(f"/manage/{real}", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert page.status_code == 200


def test_guessed_tokens_in_the_api_never_hit_and_are_rate_limited(app, world):
    client = app.test_client()
    guesses = [*variants(world.token["B1"]), *(secrets.token_urlsafe(24) for _ in range(120))]
    answers = [client.get(f"/api/v1/bookings/{guess}").status_code for guess in guesses]
    assert 200 not in answers
    assert answers[-1] == 429
    for action in ("cancel", "move"):
        tries = [
            client.post(
                f"/api/v1/bookings/{secrets.token_urlsafe(24)}/{action}",
                json={"start": NEXT_WEEK},
                environ_base={"REMOTE_ADDR": "192.0.2.99"},
            ).status_code
            for _ in range(12)
        ]
        assert 200 not in tries and tries[-1] == 429, action


def test_manage_tokens_are_long_and_random(world):
    tokens = list(world.token.values())
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert len(token) >= 32  # at least 192 bits in URL-safe base64
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


def test_an_old_link_is_dead_after_a_move(app, world):
    family = app.test_client()
    old = world.token["A1"]
    moved = family.post(f"/manage/{old}/move", data={"start": NEXT_WEEK})
    assert moved.status_code == 303
    new = re.search(r"/manage/([^/?]+)", moved.headers["Location"]).group(1)
    assert new != old
    for path in ("", "/cancel", "/move", "/appointment.ics"):
        gone = family.get(f"/manage/{old}{path}")
        assert gone.status_code == 410, path
        body = gone.get_data(as_text=True)
        assert new not in body and "11.03" not in body and "Familie" not in body
    # Nothing can be done with it any more, by the pages or the API.
    assert family.post(f"/manage/{old}/cancel", data={"reason": ""}).status_code == 410
    assert family.post(f"/manage/{old}/move", data={"start": NEXT_WEEK}).status_code == 410
    assert family.get(f"/api/v1/bookings/{old}").status_code == 404
    assert family.post(f"/api/v1/bookings/{old}/cancel").status_code == 404
    assert family.post(f"/api/v1/bookings/{old}/move", json={"start": NEXT_WEEK}).status_code == 404
    assert appointment(world.appointment["A1"]).status == AppointmentStatus.BOOKED
    assert family.get(f"/manage/{new}").status_code == 200


def test_an_old_api_token_is_dead_after_a_move_through_the_api(app, world):
    api = app.test_client()
    old = world.token["B1"]
    moved = api.post(f"/api/v1/bookings/{old}/move", json={"start": NEXT_WEEK})
    assert moved.status_code == 200, moved.json
    new = moved.json["manage_token"]
    assert api.get(f"/api/v1/bookings/{old}").status_code == 404
    assert api.post(f"/api/v1/bookings/{old}/cancel").status_code == 404
    assert api.get(f"/manage/{old}").status_code == 410
    assert api.get(f"/api/v1/bookings/{new}").json["status"] == "booked"


def test_a_cancelled_appointments_link_changes_nothing_more(app, world):
    family = app.test_client()
    token = world.token["A2"]
    assert family.post(f"/manage/{token}/cancel", data={"reason": ""}).status_code == 303
    page = family.get(f"/manage/{token}").get_data(as_text=True)
    assert "/move" not in page  # no way to move a cancelled appointment
    moved = family.post(f"/manage/{token}/move", data={"start": NEXT_WEEK})
    assert moved.status_code == 303 and "/move" not in moved.headers["Location"]
    assert family.post(f"/api/v1/bookings/{token}/move", json={"start": NEXT_WEEK}).status_code in (
        404,
        409,
    )
    assert appointment(world.appointment["A2"]).status == AppointmentStatus.CANCELLED
    # Staff restore it: the family's old link does not come back to life for changes by others.
    staff = login(app, "A2", world)
    assert staff.post(f"/appointments/{world.appointment['A2']}/restore").status_code == 302
    assert appointment(world.appointment["A2"]).status == AppointmentStatus.BOOKED


def all_text_in_database() -> str:
    """Every value of every row of every table, as text."""
    db.session.commit()
    parts = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_the_database_holds_only_hashes_of_tokens_and_keys(app, world, runner):
    tokens = set(world.token.values())
    family = app.test_client()
    moved = family.post(f"/manage/{world.token['A1']}/move", data={"start": NEXT_WEEK})
    tokens.add(re.search(r"/manage/([^/?]+)", moved.headers["Location"]).group(1))
    booked = family.post(
        "/api/v1/bookings",
        json={
            "service": world.service_slug["B"],
            "start": "2027-03-04T10:00:00+01:00",
            "name": "Familie API",
            "email": "api@example.org",
            "privacy_consent": True,
        },
        headers={"Idempotency-Key": "idem-key-0123456789"},
    )
    assert booked.status_code == 201
    tokens.add(booked.json["manage_token"])
    caseworker = login(app, "A1", world)
    feed = caseworker.post("/calendar/feed/renew").get_data(as_text=True)
    tokens.add(re.search(r"/calendar/feed/([^\"<]+)\.ics", feed).group(1))
    result = runner.invoke(args=["callbacks", "new-key", world.slug["A"]])
    assert result.exit_code == 0, result.output
    tokens.add(result.output.strip().splitlines()[-1])
    stored = all_text_in_database()
    for token in tokens:
        assert len(token) >= 20
        assert token not in stored
    assert db.session.execute(text("SELECT 1")).scalar() == 1


@pytest.fixture
def every_log_line(caplog):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    yield lambda: caplog.text + stream.getvalue()
    root.removeHandler(handler)


def test_tokens_never_reach_a_log_line(app, world, every_log_line):
    family = app.test_client()
    tokens = [world.token["A1"], world.token["B1"]]
    family.get(f"/manage/{tokens[0]}")
    family.get(f"/manage/{tokens[0]}/appointment.ics")
    moved = family.post(f"/manage/{tokens[0]}/move", data={"start": NEXT_WEEK})
    tokens.append(re.search(r"/manage/([^/?]+)", moved.headers["Location"]).group(1))
    family.get(f"/manage/{tokens[0]}")  # the old link: 410
    family.post(f"/manage/{tokens[-1]}/cancel", data={"reason": "krank"})
    family.get(f"/api/v1/bookings/{tokens[1]}")
    family.post(f"/api/v1/bookings/{tokens[1]}/cancel")
    family.get("/manage/" + "x" * 5000)  # unknown and overlong
    output = every_log_line()
    for token in tokens:
        assert token not in output


TOKEN_PAGES = ("", "/cancel", "/move", "/appointment.ics")


def test_pages_with_a_token_send_no_referer_and_link_to_no_other_host(app, world):
    family = app.test_client()
    token = world.token["A1"]
    for path in TOKEN_PAGES:
        response = family.get(f"/manage/{token}{path}")
        assert response.status_code == 200, path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert response.headers["Cache-Control"] == "no-store", path
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            for target in re.findall(r'(?:href|src|action)="([^"]*)"', html):
                local = target.startswith(("/", "#", "mailto:", "tel:", f"{PUBLIC}/"))
                assert local and not target.startswith("//"), f"{path}: {target}"
    # The dead and unknown links and a refusal too.
    family.post(f"/manage/{token}/move", data={"start": NEXT_WEEK})
    for path in (f"/manage/{token}", f"/manage/{secrets.token_urlsafe(24)}"):
        response = family.get(path)
        assert response.status_code in (404, 410)
        assert response.headers["Referrer-Policy"] == "no-referrer"
    limited = app.test_client()
    for _ in range(31):
        response = limited.get(f"/manage/{secrets.token_urlsafe(24)}")
    assert response.status_code == 429
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")


def test_the_manage_link_in_messages_is_sealed_in_the_outbox(app, world):
    """Staff read the outbox: the link shows there as a placeholder, not as the token."""
    admin = login(app, "admin", world)
    outbox = admin.get("/admin/outbox").get_data(as_text=True)
    ids = re.findall(r'href="/admin/outbox/(\d+)"', outbox)
    assert ids
    for message_id in ids:
        html = admin.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
        for token in world.token.values():
            assert token not in html
