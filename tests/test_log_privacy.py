"""No personal data and no token in any log line: a family books, moves and cancels, asks for
a callback, a caseworker works a session, the worker sends the messages, all against the real
gunicorn with debug logging, SQL echo and JSON lines; then every line is searched."""

import json
import re
import subprocess
import sys
from datetime import date, time, timedelta

import pytest
import requests
from flask_migrate import upgrade

from booking import create_app
from booking.auth.models import Role, StaffUser
from booking.auth.passwords import hash_password
from booking.callbacks.models import CallbackRequest
from booking.extensions import db
from booking.offices.models import Office, OfficeKind, Service
from booking.schedule.models import WeeklyHours
from tests.conftest import FAST_ARGON2, csrf_token_from, make_test_config
from tests.gunicorn_server import ROOT, production_env, start_gunicorn

PORT = 5404
FAMILY_NAME = "Leyla Ölçek-Haddad"
FAMILY_EMAIL = "leyla.haddad+termin@example.org"
FAMILY_PHONE = "+49 176 5550 1234"
CALLER_NAME = "Dmytro Kovalenko-Weiß"
CALLER_PHONE = "0211 5550 9876"
CALLER_EMAIL = "d.kovalenko@example.net"
STAFF_EMAIL = "sabine.nowak@example.org"
STAFF_NAME = "Sabine Nowak"
STAFF_PASSWORD = "Kein-Passwort-in-Logs-2026"
NOTE = f"Rückfrage zu {FAMILY_NAME}, erreichbar unter {FAMILY_PHONE}"


@pytest.fixture
def database(tmp_path):
    uri = f"sqlite:///{tmp_path / 'sprechstunde.sqlite3'}"
    app = create_app(make_test_config(uri), instance_path=str(tmp_path / "seed-instance"))
    with app.app_context():
        upgrade()
        office = Office(
            slug="eingliederungshilfe",
            name="Eingliederungshilfe",
            kind=OfficeKind.UNIT,
            address="Willi-Becker-Allee 7, 40227 Düsseldorf",
            operator="Jugendamt Düsseldorf",
        )
        service = Service(office=office, slug="beratung-35a", name="Beratung", minutes=30)
        user = StaffUser(
            email=STAFF_EMAIL,
            name=STAFF_NAME,
            role=Role.CASEWORKER,
            password_hash=hash_password(STAFF_PASSWORD),
            offices=[office],
        )
        user.services = [service]
        db.session.add_all([office, service, user])
        db.session.flush()
        for weekday in range(7):
            db.session.add(
                WeeklyHours(
                    staff_id=user.id,
                    office_id=office.id,
                    weekday=weekday,
                    start_time=time(8),
                    end_time=time(18),
                )
            )
        db.session.commit()
        db.engine.dispose()
    return uri


@pytest.fixture
def server(database, tmp_path):
    env = production_env(
        database,
        BOOKING_LOG_FORMAT="json",
        BOOKING_SQLALCHEMY_ECHO="true",  # every statement logged (its parameters never)
        BOOKING_SESSION_COOKIE_SECURE="false",  # plain http on 127.0.0.1 in this test
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        GUNICORN_CMD_ARGS="--log-level debug",
        **{f"BOOKING_{key}": str(value) for key, value in FAST_ARGON2.items()},
    )
    running = start_gunicorn(env, PORT, tmp_path / "gunicorn.log")
    yield running, env
    running.stop()


def form_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, (url, page.status_code)
    return csrf_token_from(page.text)


def test_a_day_of_work_leaves_no_personal_data_and_no_token_in_any_log(server, tmp_path):
    server, env = server
    api = server.url + "/api/v1"
    family = requests.Session()
    today = date.today()
    slots = family.get(
        f"{api}/slots",
        params={"service": "beratung-35a", "from": today, "to": today + timedelta(days=30)},
        timeout=30,
    ).json()["slots"]
    first, second = slots[0]["start"], slots[5]["start"]

    created = family.post(
        f"{api}/bookings",
        json={
            "service": "beratung-35a",
            "start": first,
            "name": FAMILY_NAME,
            "email": FAMILY_EMAIL,
            "phone": FAMILY_PHONE,
            "note": NOTE,
            "privacy_consent": True,
        },
        headers={"Idempotency-Key": "family-booking-key-1"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    token = created.json()["manage_token"]
    assert family.get(f"{server.url}/manage/{token}", timeout=30).status_code == 200
    moved = family.post(f"{api}/bookings/{token}/move", json={"start": second}, timeout=30)
    assert moved.status_code == 200, moved.text
    new_token = moved.json()["manage_token"]
    assert family.get(f"{api}/bookings/{token}", timeout=30).status_code == 404  # the old one
    assert family.get(f"{server.url}/manage/{new_token}/move", timeout=30).status_code == 200
    assert family.post(f"{api}/bookings/{new_token}/cancel", timeout=30).status_code == 200
    assert family.get(f"{server.url}/manage/{token}", timeout=30).status_code in (404, 410)

    caller = requests.Session()
    callback_url = f"{server.url}/offices/eingliederungshilfe/callback"
    sent = caller.post(
        callback_url,
        data={
            "csrf_token": form_token(caller, callback_url),
            "name": CALLER_NAME,
            "phone": CALLER_PHONE,
            "email": CALLER_EMAIL,
            "topic": "beratung-35a",
            "language": "uk",
            "reachable": ["tue-am"],
            "note": f"Bitte {CALLER_NAME} zurückrufen",
            "privacy_consent": "y",
            "website": "",
            "form_key": "callback-form-key",
        },
        timeout=30,
    )
    assert sent.status_code == 200 and "/callback/requested" in sent.url, sent.status_code

    staff = requests.Session()
    login = f"{server.url}/login"
    wrong = staff.post(
        login,
        data={"csrf_token": form_token(staff, login), "email": STAFF_EMAIL, "password": "falsch"},
        timeout=30,
    )
    assert wrong.status_code in (200, 401, 422)
    logged_in = staff.post(
        login,
        data={
            "csrf_token": form_token(staff, login),
            "email": STAFF_EMAIL,
            "password": STAFF_PASSWORD,
        },
        timeout=30,
    )
    assert logged_in.status_code == 200 and "/login" not in logged_in.url
    session_cookie = staff.cookies.get("sprechstunde_session")
    assert session_cookie
    assert staff.get(f"{server.url}/calendar/me", timeout=30).status_code == 200
    app = create_app(make_test_config(env["BOOKING_SQLALCHEMY_DATABASE_URI"]), str(tmp_path / "i"))
    with app.app_context():
        from booking.appointments.models import Appointment

        appointment_id = db.session.scalar(db.select(Appointment.id))
        callback_id = db.session.scalar(db.select(CallbackRequest.id))
        db.engine.dispose()
    detail = f"{server.url}/appointments/{appointment_id}"
    noted = staff.post(
        f"{detail}/note",
        data={"csrf_token": form_token(staff, detail), "note": NOTE},
        timeout=30,
    )
    assert noted.status_code == 200
    assert staff.get(f"{server.url}/callbacks/", timeout=30).status_code == 200
    callback = f"{server.url}/callbacks/{callback_id}"
    assert CALLER_NAME in staff.get(callback, timeout=30).text
    csrf = form_token(staff, callback)
    assert staff.post(f"{server.url}/logout", data={"csrf_token": csrf}, timeout=30).ok

    worker = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr
    assert "sent" in worker.stdout

    log = server.stop()
    everything = "\n".join([log, worker.stdout, worker.stderr])
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    # The logs are there to be searched: requests, statements, debug lines of gunicorn.
    paths = {line.get("path") for line in lines if line["logger"] == "gunicorn.access"}
    assert "/api/v1/bookings/[redacted]/move" in paths
    assert "/manage/[redacted]" in paths
    assert any(line["logger"].startswith("sqlalchemy.engine") for line in lines)
    assert any("INSERT INTO appointment" in line.get("message", "") for line in lines)
    assert any(line["level"] == "DEBUG" for line in lines)

    secrets = {
        "family name": FAMILY_NAME,
        "family surname": "Ölçek-Haddad",
        "family email": FAMILY_EMAIL,
        "family email, local part": "leyla.haddad",
        "family phone": FAMILY_PHONE,
        "family phone, E.164": re.sub(r"[^\d+]", "", FAMILY_PHONE),
        "family phone, digits": "5550 1234",
        "caller name": CALLER_NAME,
        "caller surname": "Kovalenko",
        "caller phone": CALLER_PHONE,
        "caller phone, E.164": "+4921155509876",
        "caller phone, national digits": "02115550",
        "caller email": CALLER_EMAIL,
        "staff email": STAFF_EMAIL,
        "staff name": STAFF_NAME,
        "staff password": STAFF_PASSWORD,
        "manage token": token,
        "new manage token": new_token,
        "session cookie": session_cookie,
        "CSRF token": csrf,
        "idempotency key": "family-booking-key-1",
        "note": NOTE[:20],
    }
    found = {what: value for what, value in secrets.items() if value in everything}
    assert found == {}, f"found in the logs: {sorted(found)}"
