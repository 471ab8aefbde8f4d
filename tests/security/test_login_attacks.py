"""Attacks on staff login: account enumeration, open redirects through `next`, session fixation,
stolen cookies replayed after logout, password change and deactivation, and brute force spread
over several app workers sharing Redis."""

import html
import re
import uuid
from urllib.parse import urlsplit

import pytest
import redis
from argon2 import PasswordHasher

from booking.auth.models import Role
from tests.conftest import PASSWORD

WRONG = "a wrong password here"


# --- Account enumeration ----------------------------------------------------------------------


def login_page(client, email: str, password: str, address: str = "192.0.2.1"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_unknown_inactive_and_known_accounts_get_the_same_answer(app, make_staff, monkeypatch):
    known = make_staff(email="k.becker@example.org")
    make_staff(email="gone@example.org", active=False)
    verified = []
    original = PasswordHasher.verify

    def counting_verify(self, hash, password):
        verified.append(hash.split("$")[3])  # the argon2 parameters m, t, p
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    client = app.test_client()
    cases = {
        "unknown": ("nobody@example.org", PASSWORD),
        "inactive, right password": ("gone@example.org", PASSWORD),
        "known, wrong password": (known.email, WRONG),
    }
    bodies, costs = {}, {}
    for n, (name, (email, password)) in enumerate(cases.items()):
        verified.clear()
        response = login_page(client, email, password, address=f"192.0.2.{n + 1}")
        assert response.status_code == 200, name
        bodies[name] = response.get_data(as_text=True).replace(email, "EMAIL")
        costs[name] = list(verified)
    assert len(set(bodies.values())) == 1, "the pages differ"
    # Exactly one argon2 verification with the configured cost, account or not: no timing
    # difference to measure.
    assert set(map(tuple, costs.values())) == {("m=1024,t=1,p=1",)}, costs


def test_the_per_account_limit_answers_alike_for_unknown_accounts(app, make_staff):
    known = make_staff()
    client = app.test_client()
    for email in (known.email, "nobody@example.org"):
        answers = [login_page(client, email, WRONG, "203.0.113.9").status_code for _ in range(6)]
        assert answers == [200] * 5 + [429], email


# --- Open redirects through `next` ------------------------------------------------------------

EVIL_NEXT = [
    "//evil.example",
    "//evil.example/staff/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "////evil.example",
    "///evil.example",
    "https://evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "//evil.example@localhost",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "%2f%5cevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "/%09/evil.example",
    "//evil%2Eexample",
    "//ｅｖｉｌ.example",
    "/。/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
]


def browser_target(location: str) -> str:
    """Where a browser would go: it drops tabs and newlines and reads \\ as / (percent-escapes
    stay as they are: "/%2F%2Fevil.example" is a path of our site)."""
    return re.sub(r"[\t\r\n]", "", location).replace("\\", "/")


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_next_never_leads_to_another_site(client, make_staff, target):
    admin = make_staff(Role.ADMIN)
    response = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD, "next": target}
    )
    if response.status_code == 400:  # refused as unusable input (a NUL): no redirect at all
        return
    assert response.status_code == 302
    location = response.headers["Location"]
    for seen in (location, browser_target(location)):
        parts = urlsplit(seen)
        assert not parts.scheme and not parts.netloc, location
        assert seen.startswith("/") and not seen.startswith("//"), location
    assert "evil" not in location.lower() or location.startswith("/%")


@pytest.mark.parametrize("target", EVIL_NEXT[:6])
def test_next_in_the_login_address_is_not_followed_either(client, make_staff, target):
    admin = make_staff(Role.ADMIN)
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert "<script>" not in page
    field = re.search(r'name="next"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="next"', page)
    sent = (field and (field.group(1) or field.group(2))) or ""

    response = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD, "next": html.unescape(sent)}
    )
    assert not urlsplit(response.headers["Location"]).netloc
    # Already logged in: /login?next=… goes home, not to `next`.
    again = client.get("/login", query_string={"next": target})
    assert again.status_code == 302 and not urlsplit(again.headers["Location"]).netloc


def test_a_local_next_is_kept(client, make_staff):
    admin = make_staff(Role.ADMIN)
    response = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD, "next": "/admin/offices?x=1"}
    )
    assert response.headers["Location"] == "/admin/offices?x=1"


# --- Session fixation and replayed cookies ----------------------------------------------------


def session_cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def is_logged_in(client) -> bool:
    return client.get("/staff/").status_code == 200


def test_a_session_planted_before_login_is_not_the_logged_in_one(app, make_staff):
    user = make_staff()
    attacker = app.test_client()
    attacker.get("/login")
    with attacker.session_transaction() as session:
        session["planted"] = "by the attacker"
    planted = session_cookie(app, attacker)
    victim = with_cookie(app, planted)  # the attacker got the victim to use their cookie
    assert (
        victim.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )
    assert session_cookie(app, victim) != planted
    with victim.session_transaction() as session:
        assert "planted" not in session
    assert is_logged_in(victim)
    assert not is_logged_in(with_cookie(app, planted))  # the attacker's copy is still anonymous


def test_a_cookie_stolen_before_logout_is_dead(app, auth, client, make_staff):
    user = make_staff()
    auth.login(user.email)
    stolen = session_cookie(app, client)
    assert is_logged_in(with_cookie(app, stolen))
    auth.logout()
    assert not is_logged_in(with_cookie(app, stolen))


def test_a_cookie_stolen_before_a_password_change_is_dead(app, auth, client, make_staff):
    user = make_staff()
    auth.login(user.email)
    stolen = session_cookie(app, client)
    new = "a brand new passphrase"
    changed = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert changed.status_code == 302
    assert is_logged_in(client)  # the one who changed it stays
    assert not is_logged_in(with_cookie(app, stolen))


def test_a_cookie_stays_dead_after_deactivation_and_reactivation(app, auth, client, make_staff):
    user = make_staff()
    admin = make_staff(Role.ADMIN)
    auth.login(user.email)
    stolen = session_cookie(app, client)
    boss = app.test_client()
    boss.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert boss.post(f"/admin/staff/{user.id}/deactivate").status_code == 302
    assert not is_logged_in(client)
    assert not is_logged_in(with_cookie(app, stolen))
    assert boss.post(f"/admin/staff/{user.id}/activate").status_code == 302
    assert not is_logged_in(with_cookie(app, stolen))
    # A deactivated account cannot log in either.
    boss.post(f"/admin/staff/{user.id}/deactivate")
    assert (
        app.test_client()
        .post("/login", data={"email": user.email, "password": PASSWORD})
        .status_code
        == 200
    )


def test_a_forged_session_cookie_is_refused(app, make_staff):
    user = make_staff()
    from flask.sessions import SecureCookieSessionInterface

    forger = SecureCookieSessionInterface()
    app_with_other_key = type("A", (), {"secret_key": "guessed", "config": app.config})()
    serializer = forger.get_signing_serializer(app_with_other_key)
    cookie = serializer.dumps({"_user_id": f"{user.id}:{user.session_token}", "_fresh": True})
    assert not is_logged_in(with_cookie(app, cookie))
    # Even signed with the right key, a user id without the current session token is refused.
    right = forger.get_signing_serializer(app)
    assert not is_logged_in(with_cookie(app, right.dumps({"_user_id": str(user.id)})))


# --- Brute force over several workers sharing Redis -------------------------------------------

REDIS_URI = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix():
    try:
        connection = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1)
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379 (the rate limits' shared storage)")
    prefix = f"sprechstunde-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def workers(app_factory, redis_prefix, make_staff):
    """Two app instances (two workers or servers) with one Redis for their counters."""

    def build(**limits):
        return [
            app_factory(
                RATELIMIT_STORAGE_URI=REDIS_URI, RATELIMIT_KEY_PREFIX=redis_prefix, **limits
            )
            for _ in range(2)
        ]

    return build


def test_brute_force_spread_over_workers_is_counted_once(workers, make_staff):
    one, two = workers()  # the shipped limits: 5 failures a minute per account and address
    email = make_staff(email="k.becker@example.org").email
    attacker = [one.test_client(), two.test_client()]
    answers = [
        login_page(attacker[n % 2], email, WRONG, "203.0.113.66").status_code for n in range(8)
    ]
    assert answers == [200] * 5 + [429] * 3
    # The caseworker, from her own desk, is not locked out on either worker.
    for app in (one, two):
        desk = app.test_client()
        assert login_page(desk, email, PASSWORD, "198.51.100.20").status_code == 302
        assert is_logged_in(desk)


def test_the_address_limit_is_shared_by_the_workers(workers, make_staff):
    one, two = workers(LOGIN_LIMIT_PER_IP="6 per minute", LOGIN_LIMIT_PER_ACCOUNT="100 per minute")
    clients = [one.test_client(), two.test_client()]
    answers = [
        login_page(clients[n % 2], f"user{n}@example.org", WRONG, "203.0.113.7").status_code
        for n in range(8)
    ]
    assert answers == [200] * 6 + [429] * 2


def test_a_botnet_hits_the_ceiling_but_the_users_own_device_gets_in(workers, make_staff):
    one, two = workers(LOGIN_LIMIT_PER_ACCOUNT_UNTRUSTED="4 per hour")
    email = make_staff().email
    desk = one.test_client()
    assert login_page(desk, email, PASSWORD, "198.51.100.20").status_code == 302
    desk.post("/logout")
    bots = [one.test_client(), two.test_client()]
    answers = [
        login_page(bots[n % 2], email, WRONG, f"203.0.113.{n + 1}").status_code for n in range(6)
    ]
    assert answers == [200] * 4 + [429] * 2
    # Her device cookie (made on worker one) is trusted on worker two: she gets in.
    cookie = desk.get_cookie(one.config["LOGIN_DEVICE_COOKIE_NAME"], path="/login")
    own = two.test_client()
    own.set_cookie(cookie.key, cookie.value, path="/login")
    assert login_page(own, email, PASSWORD, "198.51.100.20").status_code == 302
