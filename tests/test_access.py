"""Deny by default: every route declares its rule, and every staff route enforces it."""

import pytest

from booking.auth.models import Role
from booking.core.access import PUBLIC, access_rule_for


def sample_value(argument: str):
    return 1 if argument.endswith("_id") else "x"


def staff_rules(app):
    for rule in app.url_map.iter_rules():
        access = access_rule_for(rule.endpoint)
        if access not in (None, PUBLIC):
            yield rule, access


def build_path(rule, **known) -> str:
    return rule.build({arg: known.get(arg, sample_value(arg)) for arg in rule.arguments})[1]


def request_method(rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"


def test_every_route_has_an_explicit_access_rule(app):
    with app.test_request_context():
        missing = [
            rule.rule for rule in app.url_map.iter_rules() if access_rule_for(rule.endpoint) is None
        ]
    assert missing == []


def test_public_routes_are_the_known_few(app):
    with app.test_request_context():
        public = {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if access_rule_for(rule.endpoint) == PUBLIC
        }
    # The family-facing blueprints are public by design; anything else is listed here.
    others = {name for name in public if not name.startswith(("public.", "api."))}
    assert others == {
        "static",
        "core.index",
        "core.office",
        "core.healthz",
        "ops.readyz",
        "ops.prometheus_metrics",  # a 404 unless METRICS_TOKEN is set, then a 401 without it
        "auth.login",
        "schedule.feed_ics",  # guarded by its secret token
        "callbacks_public.request_form",
        "callbacks_public.requested",  # shows only the browser's own request (session)
        "callbacks_api.create",  # guarded by the office's key
        "waiting.display",  # the waiting-room screen: numbers and places only
        "accessibility.statement",  # the BITV 2.0 statement and its feedback form
        "accessibility.thanks",  # a thank-you text, nothing of the message
        "accessibility.easy_read",  # Leichte Sprache
        "finder.find_welcome_point",  # quarters and Welcome Points, no personal data
        "finder.earliest",
        "finder.free_days",
        "waitlist_public.join",  # the waiting list's form, like booking
        "waitlist_public.entry",  # guarded by its secret token (leave link)
        "waitlist_public.leave",
        "waitlist_public.offer",  # guarded by the offer's secret token
    }


def test_a_route_without_a_rule_is_denied(app_factory):
    app = app_factory()

    @app.route("/forgotten")
    def forgotten():
        return "secret"

    assert app.test_client().get("/forgotten").status_code == 403


def test_anonymous_users_are_sent_to_login_on_every_staff_route(app, client):
    with app.test_request_context():
        rules = list(staff_rules(app))
    assert rules
    for rule, _ in rules:
        path = build_path(rule)
        response = client.open(path, method=request_method(rule))
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_refused_where_its_rule_says_no(app, client, auth, make_staff, role):
    user = make_staff(role)
    auth.login(user.email)
    with app.test_request_context():
        rules = list(staff_rules(app))
    for rule, allowed in rules:
        if rule.endpoint == "auth.logout":
            continue
        # The user's own id: a record-level refusal of someone else's calendar is not the rule.
        path = build_path(rule, staff_id=user.id)
        response = client.open(path, method=request_method(rule))
        if role in allowed:
            assert response.status_code != 403, path
        else:
            assert response.status_code == 403, path


def test_staff_see_only_their_own_offices(client, auth, make_office, make_staff):
    mine = make_office(name="Welcome Point Gerricusplatz")
    other = make_office(name="Welcome Point Gumbertstraße")
    user = make_staff(Role.RECEPTION, offices=[mine])
    auth.login(user.email)
    index = client.get("/staff/").get_data(as_text=True)
    assert "Welcome Point Gerricusplatz" in index
    assert "Welcome Point Gumbertstraße" not in index
    assert client.get(f"/staff/offices/{mine.slug}").status_code == 200
    assert client.get(f"/staff/offices/{other.slug}").status_code == 403


def test_admins_see_every_office(client, auth, make_office, make_staff):
    office = make_office()
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    assert client.get(f"/staff/offices/{office.slug}").status_code == 200
