from datetime import timedelta

import pytest
from freezegun import freeze_time
from itsdangerous import URLSafeTimedSerializer

from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.auth.throttle import account_id
from booking.extensions import db
from tests.conftest import PASSWORD, csrf_token_from


def test_login_page_has_csrf_and_no_cache(app_factory):
    client = app_factory(WTF_CSRF_ENABLED=True).test_client()
    response = client.get("/login")
    assert response.status_code == 200
    assert csrf_token_from(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"


def test_login_without_csrf_token_is_refused(app_factory, make_staff):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_staff(Role.ADMIN)
        email = user.email
    response = app.test_client().post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400


def test_login_redirects_admin_to_admin_and_caseworker_to_their_day(client, auth, make_staff):
    admin = make_staff(Role.ADMIN)
    caseworker = make_staff(Role.CASEWORKER)
    assert auth.login(admin.email).headers["Location"] == "/admin/"
    auth.logout()
    assert auth.login(caseworker.email).headers["Location"] == "/calendar/me"


def test_email_is_case_insensitive(auth, make_staff):
    user = make_staff(email="k.becker@example.org")
    assert auth.login("  K.Becker@Example.org ").status_code == 302
    assert user.last_login_at is not None


def test_wrong_email_and_wrong_password_get_the_same_answer(client, auth, make_staff):
    user = make_staff()
    wrong_password = auth.login(user.email, "not the password")
    wrong_email = auth.login("nobody@example.org", PASSWORD)
    assert wrong_password.status_code == wrong_email.status_code == 200
    text = "E-Mail-Adresse oder Passwort ist falsch."
    assert text in wrong_password.get_data(as_text=True)
    assert text in wrong_email.get_data(as_text=True)
    # The page differs only in the echoed email address.
    assert wrong_password.get_data(as_text=True).replace(user.email, "X") == wrong_email.get_data(
        as_text=True
    ).replace("nobody@example.org", "X")


def test_failed_login_keeps_the_email_but_not_the_password(auth, make_staff):
    user = make_staff()
    html = auth.login(user.email, "wrong-password-123").get_data(as_text=True)
    assert f'value="{user.email}"' in html
    assert "wrong-password-123" not in html


def test_inactive_staff_cannot_log_in(auth, make_staff):
    user = make_staff(active=False)
    assert auth.login(user.email).status_code == 200


def test_login_is_audited(auth, make_staff):
    user = make_staff()
    auth.login(user.email, "bad password here")
    auth.login(user.email)
    actions = [event.action for event in db.session.scalars(db.select(AuditEvent))]
    assert actions == ["auth.login_failed", "auth.login"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/offices", "/admin/offices"),
        ("https://evil.example/", "/admin/"),
        ("//evil.example/", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
    ],
)
def test_next_goes_to_local_paths_only(client, make_staff, target, expected):
    admin = make_staff(Role.ADMIN)
    response = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == expected


def test_anonymous_staff_page_redirects_to_login_with_next(client):
    response = client.get("/admin/offices")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_needs_post(client, auth, make_staff):
    user = make_staff()
    auth.login(user.email)
    assert client.get("/logout").status_code == 405
    assert client.get("/staff/").status_code == 200


def test_logout_needs_csrf_token(app_factory, make_staff):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        email = make_staff().email
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert client.post("/logout").status_code == 400
    assert client.get("/staff/").status_code == 200
    token = csrf_token_from(client.get("/staff/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/").status_code == 302


def test_session_cookie_replayed_after_logout_is_dead(app, client, auth, make_staff):
    user = make_staff()
    auth.login(user.email)
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    response = thief.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_deactivation_ends_open_sessions(client, auth, make_staff):
    user = make_staff()
    auth.login(user.email)
    assert client.get("/staff/").status_code == 200
    user.active = False
    user.rotate_session_token()
    db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_admin_password_reset_ends_the_users_sessions(app, client, auth, make_staff):
    admin = make_staff(Role.ADMIN)
    user = make_staff()
    auth.login(user.email)
    victim_client = client
    admin_client = app.test_client()
    admin_client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = admin_client.post(
        f"/admin/staff/{user.id}/password",
        data={"new_password": "a brand new passphrase", "confirm": "a brand new passphrase"},
    )
    assert response.status_code == 302
    assert victim_client.get("/staff/").status_code == 302


def test_login_starts_a_fresh_session(app, client, make_staff):
    user = make_staff()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    db.session.refresh(user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}:{user.session_token}"


def test_idle_timeout_after_30_minutes(client, auth, make_staff):
    user = make_staff()
    with freeze_time("2026-11-25 09:00:00") as frozen:
        auth.login(user.email)
        frozen.tick(timedelta(minutes=29))
        assert client.get("/staff/").status_code == 200
        frozen.tick(timedelta(minutes=29))  # activity resets the idle clock
        assert client.get("/staff/").status_code == 200
        frozen.tick(timedelta(minutes=31))
        response = client.get("/staff/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_replayed_idle_expired_cookie_does_not_end_the_live_session(app, client, auth, make_staff):
    user = make_staff()
    name = app.config["SESSION_COOKIE_NAME"]
    with freeze_time("2026-11-25 09:00:00") as frozen:
        auth.login(user.email)
        old_copy = client.get_cookie(name).value
        for _ in range(3):  # the user keeps working on their device
            frozen.tick(timedelta(minutes=20))
            assert client.get("/staff/").status_code == 200
        replay = app.test_client()  # the copy from 09:00, idle for an hour
        replay.set_cookie(name, old_copy)
        refused = replay.get("/staff/")
        assert refused.status_code == 302
        assert refused.headers["Location"].startswith("/login")
        with replay.session_transaction() as session:
            assert "_user_id" not in session  # that cookie is cleared
        assert replay.get("/staff/").status_code == 302
        # The live session keeps working.
        assert client.get("/staff/").status_code == 200
        frozen.tick(timedelta(minutes=20))
        assert client.get("/staff/").status_code == 200
    actions = [event.action for event in db.session.scalars(db.select(AuditEvent))]
    assert actions.count("auth.timeout") == 1


def test_absolute_timeout_after_8_hours(client, auth, make_staff):
    user = make_staff()
    with freeze_time("2026-11-25 07:00:00") as frozen:
        auth.login(user.email)
        for _ in range(16):  # busy all day, never idle
            frozen.tick(timedelta(minutes=29))
            assert client.get("/staff/").status_code == 200
        frozen.tick(timedelta(minutes=29))  # 8 h 13 min after login
        assert client.get("/staff/").status_code == 302


WRONG = "wrong password here"


def login_from(client, address: str, email: str, password: str = WRONG):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_logins_count_per_account_and_address(app_factory, make_staff):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT="3 per minute", LOGIN_LIMIT_PER_IP="100 per minute")
    email = make_staff().email
    client = app.test_client()
    for _ in range(3):
        assert login_from(client, "192.0.2.1", email).status_code == 200
    blocked = login_from(client, "192.0.2.1", email, PASSWORD)
    assert blocked.status_code == 429
    assert "Zu viele Versuche" in blocked.get_data(as_text=True)
    # Another account from the same address is not blocked by this limit.
    assert login_from(client, "192.0.2.1", "other@example.org").status_code == 200
    # Nor is the same account from another address.
    elsewhere = app.test_client()
    assert login_from(elsewhere, "192.0.2.7", email, PASSWORD).status_code == 302


def test_an_attacker_elsewhere_cannot_lock_the_caseworker_out(app_factory, make_staff):
    app = app_factory()  # the shipped limits: 5 failures a minute per account and address
    email = make_staff().email
    attacker = app.test_client()
    answers = [login_from(attacker, "203.0.113.66", email).status_code for _ in range(6)]
    assert answers == [200, 200, 200, 200, 200, 429]
    user = app.test_client()
    assert login_from(user, "198.51.100.20", email, PASSWORD).status_code == 302
    assert user.get("/staff/").status_code == 200
    # The attacker stays throttled, even with the right password.
    assert login_from(attacker, "203.0.113.66", email).status_code == 429
    assert login_from(attacker, "203.0.113.66", email, PASSWORD).status_code == 429


def test_successful_logins_do_not_count_as_failures(app_factory, make_staff):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT="2 per minute", LOGIN_LIMIT_PER_IP="100 per minute")
    email = make_staff().email
    client = app.test_client()
    for _ in range(4):
        assert login_from(client, "192.0.2.1", email, PASSWORD).status_code == 302
        assert client.post("/logout").status_code == 302


def test_device_cookie_exempts_the_users_device_from_the_account_ceiling(app_factory, make_staff):
    app = app_factory(
        LOGIN_LIMIT_PER_ACCOUNT="5 per minute",
        LOGIN_LIMIT_PER_ACCOUNT_UNTRUSTED="3 per hour",
        LOGIN_LIMIT_PER_IP="100 per minute",
    )
    email = make_staff().email
    desk = app.test_client()  # the caseworker's own PC
    assert login_from(desk, "198.51.100.20", email, PASSWORD).status_code == 302
    device_cookie = desk.get_cookie(app.config["LOGIN_DEVICE_COOKIE_NAME"], path="/login")
    assert device_cookie is not None
    desk.post("/logout")
    # A brute force from many addresses: one failure each, until the ceiling stops it.
    botnet = app.test_client()
    answers = [login_from(botnet, f"203.0.113.{n}", email).status_code for n in range(1, 6)]
    assert answers == [200, 200, 200, 429, 429]
    # A device that never logged in to the account meets the ceiling too ...
    laptop = app.test_client()
    assert login_from(laptop, "198.51.100.99", email, PASSWORD).status_code == 429
    # ... the caseworker's own PC does not, and its wrong passwords count on their own.
    assert login_from(desk, "198.51.100.20", email).status_code == 200
    assert login_from(desk, "198.51.100.20", email, PASSWORD).status_code == 302


def test_a_forged_or_foreign_device_cookie_is_not_trusted(app_factory, make_staff):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT_UNTRUSTED="1 per hour")
    victim = make_staff().email
    attacker_email = make_staff().email
    name = app.config["LOGIN_DEVICE_COOKIE_NAME"]
    attacker = app.test_client()
    assert login_from(attacker, "203.0.113.5", attacker_email, PASSWORD).status_code == 302
    assert attacker.get_cookie(name, path="/login") is not None
    attacker.post("/logout")
    # Their own account's device cookie vouches for nothing else.
    assert login_from(attacker, "203.0.113.5", victim).status_code == 200
    assert login_from(attacker, "203.0.113.5", victim).status_code == 429
    # Nor does a cookie naming the victim's account without our signature.
    content = {"n": "forged-nonce", "a": [account_id(victim)]}
    forged = app.test_client()
    fake = URLSafeTimedSerializer("not the secret key", salt="login-device").dumps(content)
    forged.set_cookie(name, fake, path="/login")
    assert login_from(forged, "203.0.113.6", victim).status_code == 429
    # (The same content signed with the app's key would be trusted.)
    genuine = URLSafeTimedSerializer(app.secret_key, salt="login-device").dumps(content)
    forged.set_cookie(name, genuine, path="/login")
    assert login_from(forged, "203.0.113.6", victim).status_code == 200


def test_device_cookie_flags(app_factory, make_staff):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    email = make_staff().email
    response = app.test_client().post("/login", data={"email": email, "password": PASSWORD})
    [cookie] = [
        c
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith(app.config["LOGIN_DEVICE_COOKIE_NAME"] + "=")
    ]
    assert "HttpOnly" in cookie and "Secure" in cookie
    assert "Path=/login" in cookie and "SameSite=Strict" in cookie
    assert email not in cookie


def test_login_rate_limit_per_ip(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT="100 per minute", LOGIN_LIMIT_PER_IP="4 per minute")
    client = app.test_client()
    for n in range(4):
        response = client.post("/login", data={"email": f"u{n}@example.org", "password": "x"})
        assert response.status_code == 200
    assert (
        client.post("/login", data={"email": "u9@example.org", "password": "x"}).status_code == 429
    )
    other_ip = app.test_client().post(
        "/login",
        data={"email": "u9@example.org", "password": "x"},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert other_ip.status_code == 200


def test_rate_limits_can_be_switched_off(app_factory):
    app = app_factory(RATELIMIT_ENABLED=False, LOGIN_LIMIT_PER_IP="1 per minute")
    client = app.test_client()
    for _ in range(3):
        assert (
            client.post("/login", data={"email": "a@example.org", "password": "x"}).status_code
            == 200
        )


def test_change_own_password(client, auth, make_staff):
    user = make_staff()
    auth.login(user.email)
    bad = client.post(
        "/account/password",
        data={"current_password": "wrong", "new_password": "x" * 14, "confirm": "x" * 14},
    )
    assert "Das aktuelle Passwort ist falsch." in bad.get_data(as_text=True)
    short = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert "mindestens 12 Zeichen" in short.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "y" * 14, "confirm": "y" * 14},
    )
    assert ok.status_code == 302
    assert client.get("/staff/").status_code == 200  # still logged in here
    auth.logout()
    assert auth.login(user.email, "y" * 14).status_code == 302
