"""CSRF: every state-changing form refuses a POST without its token, and one sent from another
site (Origin or Referer of another host), even with a valid token. The JSON API takes JSON only
(a form on another site cannot send it without the API's consent)."""

import re

import pytest
from werkzeug.routing import Rule

from booking.core.access import PUBLIC, access_rule_for
from tests.conftest import PASSWORD, csrf_token_from
from tests.security.conftest import World, snapshot

# Not forms: the JSON API (its own defence below) and the callback API (a bearer key).
NOT_FORMS = ("api.", "callbacks_api.")
# Pages only a caseworker has (admins have the /staff/<id> variants).
CASEWORKER_ONLY = {"schedule.my_hours", "schedule.my_absences"}


@pytest.fixture
def app(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def form_rules(app) -> list[Rule]:
    with app.test_request_context():
        return [
            rule
            for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.endpoint.startswith(NOT_FORMS)
        ]


def path_for(rule: Rule, world: World) -> str:
    office_slug = rule.rule.startswith(("/queue", "/callbacks/office", "/offices"))
    values = {
        "slug": world.slug["A"] if office_slug else world.service_slug["A"],
        "token": world.token["A1"],
        "appointment_id": world.appointment["A1"],
        "request_id": world.callback["A"],
        "entry_id": world.queue_entry["A"],
        "hours_id": world.hours["A1"],
        "absence_id": world.absence["A1"],
        "staff_id": world.staff["A1"],
        "office_id": world.office["A"],
    }
    return rule.build({name: values.get(name, 1) for name in rule.arguments})[1]


def logged_in(app, world: World, who: str):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": world.email[who], "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def who_for(app, rule: Rule) -> str | None:
    with app.test_request_context():
        access = access_rule_for(rule.endpoint)
    if access == PUBLIC:
        return None
    return "A1" if rule.endpoint in CASEWORKER_ONLY else "admin"


def test_every_form_refuses_a_post_without_its_token(app, world):
    rules = form_rules(app)
    assert len(rules) > 50
    clients = {None: app.test_client()}
    for rule in rules:
        who = who_for(app, rule)
        if who not in clients:
            clients[who] = logged_in(app, world, who)
        path = path_for(rule, world)
        before = snapshot()
        response = clients[who].post(path, data={"reason": "x", "name": "Familie X"})
        assert response.status_code == 400, f"{response.status_code} {path}"
        assert "Das Formular ist abgelaufen" in response.get_data(as_text=True), path
        # A token of another session is no better.
        response = clients[who].post(path, data={"csrf_token": "forged." + "A" * 40})
        assert response.status_code == 400, path
        assert snapshot() == before, path


def page_token(client, path: str) -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


FOREIGN = [
    {"Origin": "https://evil.example"},
    {"Origin": "http://localhost.evil.example"},
    {"Referer": "https://evil.example/form.html"},
    {"Origin": "https://evil.example", "Referer": "http://localhost/book"},
]


@pytest.mark.parametrize(
    "headers", FOREIGN, ids=lambda h: " ".join(f"{k}:{v}" for k, v in h.items())
)
def test_a_form_sent_from_another_site_is_refused_even_with_a_token(app, world, headers):
    staff = logged_in(app, world, "A1")
    token = page_token(staff, f"/appointments/{world.appointment['A1']}")
    before = snapshot()
    response = staff.post(
        f"/appointments/{world.appointment['A1']}/cancel",
        data={"csrf_token": token, "reason": "von einer fremden Seite"},
        headers=headers,
    )
    assert response.status_code == 400
    family = app.test_client()
    token = page_token(family, f"/manage/{world.token['A2']}/cancel")
    response = family.post(
        f"/manage/{world.token['A2']}/cancel", data={"csrf_token": token}, headers=headers
    )
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://localhost"},
        {"Referer": "http://localhost/appointments/1"},
        {"Origin": "null"},  # a page with Referrer-Policy: no-referrer sends this
    ],
    ids=["none", "same-origin", "same-referer", "null"],
)
def test_a_form_of_our_own_site_gets_through(app, world, headers):
    family = app.test_client()
    token = page_token(family, f"/manage/{world.token['A2']}/cancel")
    response = family.post(
        f"/manage/{world.token['A2']}/cancel",
        data={"csrf_token": token, "reason": ""},
        headers=headers,
    )
    assert response.status_code == 303


def test_over_https_a_form_without_a_referer_from_our_site_is_refused(app, world):
    family = app.test_client()
    base = "https://localhost"
    page = family.get(f"/manage/{world.token['A2']}/cancel", base_url=base)
    token = csrf_token_from(page.get_data(as_text=True))
    sent = {"csrf_token": token, "reason": ""}
    path = f"/manage/{world.token['A2']}/cancel"
    evil = {"Referer": "https://evil.example/"}
    assert family.post(path, data=sent, base_url=base, headers=evil).status_code == 400
    ours = {"Referer": f"{base}/manage/x", "Origin": base}
    assert family.post(path, data=sent, base_url=base, headers=ours).status_code == 303


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "service=beratung-a&name=X"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("text/plain", '{"service": "beratung-a", "name": "X"}'),
    ],
)
def test_the_json_api_takes_no_form_a_browser_could_send_cross_site(app, world, content_type, body):
    client = app.test_client()
    before = snapshot()
    # (Cancel has no body: its token in the address is the whole credential, nothing a
    # browser holds for its user, so another site can do nothing with it that its owner can't.)
    for path in ("/api/v1/bookings", f"/api/v1/bookings/{world.token['A1']}/move"):
        response = client.post(path, data=body, content_type=content_type)
        assert response.status_code in (400, 415), path
    assert snapshot() == before


def test_the_api_sends_no_cors_permission(app, world):
    response = app.test_client().open(
        "/api/v1/bookings",
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    get = app.test_client().get(
        f"/api/v1/bookings/{world.token['A1']}", headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in get.headers
    assert re.search("manage_token|reference", get.get_data(as_text=True))
