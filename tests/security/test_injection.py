"""SQL injection probes on every parameter of every route (path, query and form), and the
places that look people up by what they type: nothing breaks, nothing extra is found, and no
database error or stored secret ever reaches an answer."""

import re

import pytest
from sqlalchemy import func, inspect, select
from werkzeug.routing import Rule

from booking.appointments.models import Appointment
from booking.auth.models import StaffUser
from booking.extensions import db
from tests.security.conftest import World, login
from tests.test_fuzz_routes import QUERY_NAMES, form_field_names

PROBES = (
    "' OR '1'='1' --",
    '" OR ""="',
    "1; DROP TABLE staff_user; --",
    "1' UNION SELECT password_hash, email FROM staff_user --",
    "%' OR email LIKE '%",
    "1 AND (SELECT 1 FROM pg_sleep(5))=1",
    "x') OR 1=1; --",
)
DATABASE_ERRORS = re.compile(
    r"syntax error|sqlite3?\.|psycopg|OperationalError|ProgrammingError|SQLSTATE|"
    r"unterminated quoted|near \"|\$argon2",
    re.I,
)


@pytest.fixture
def app(app_factory):
    app = app_factory(RATELIMIT_ENABLED=False)
    with app.app_context():
        yield app


def probe_path(rule: Rule, probe: str, world: World) -> str | None:
    values = {}
    for name, converter in rule._converters.items():
        if type(converter).__name__ == "IntegerConverter":
            values[name] = world.appointment["A1"]
        else:
            values[name] = probe
    try:
        return rule.build(values)[1]
    except Exception:
        return None


def assert_clean(response, where: str) -> None:
    assert response.status_code < 500, f"{response.status_code} {where}"
    body = response.get_data(as_text=True)
    assert not DATABASE_ERRORS.search(body), f"database text in {where}"


def test_sql_probes_in_every_parameter_break_nothing(app, world):
    clients = {"family": app.test_client(), "admin": login(app, "admin", world)}
    caseworker = login(app, "A1", world)
    fields = sorted(form_field_names() - {"csrf_token"})
    db.session.commit()
    users_before = db.session.scalar(select(func.count()).select_from(StaffUser))
    tables_before = set(inspect(db.engine).get_table_names())
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ("static", "auth.logout", "auth.login")
    ]
    sent = 0
    for rule in rules:
        for probe in PROBES:
            path = probe_path(rule, probe, world)
            if path is None:
                continue
            client = caseworker if rule.rule.startswith("/calendar/") else clients["admin"]
            if "GET" in rule.methods:
                query = dict.fromkeys(QUERY_NAMES, probe)
                assert_clean(client.get(path, query_string=query), f"GET {path}")
                sent += 1
            if "POST" in rule.methods:
                if rule.rule.startswith("/api/"):
                    body = dict.fromkeys(
                        ("service", "start", "name", "email", "phone", "office", "topic"), probe
                    )
                    response = client.post(path, json=body, headers={"Idempotency-Key": probe})
                else:
                    response = client.post(path, data=dict.fromkeys(fields, probe))
                assert_clean(response, f"POST {path}")
                sent += 1
    assert sent > 500
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == users_before
    assert set(inspect(db.engine).get_table_names()) == tables_before


@pytest.mark.parametrize("probe", PROBES)
def test_lookups_by_typed_text_find_nothing_with_a_probe(app, world, probe):
    family = app.test_client()
    # Login: neither the email nor the password field opens an account.
    for email, password in ((probe, probe), (world.email["admin"], probe)):
        response = family.post("/login", data={"email": email, "password": password})
        assert response.status_code == 200
    assert family.get("/staff/").status_code == 302
    # Manage links and the API's bookings.
    assert family.get(f"/api/v1/bookings/{probe}").status_code in (404, 400)
    assert family.get("/api/v1/slots", query_string={"service": probe}).status_code in (400, 404)
    # The finder's quarter search.
    finder = family.get("/welcome-points/finder", query_string={"q": probe})
    assert finder.status_code in (200, 400)
    # Staff search a person's records: a probe is no wildcard.
    admin = login(app, "admin", world)
    found = admin.post("/admin/privacy/search", data={"contact": probe})
    html = found.get_data(as_text=True)
    for name in world.family_name.values():
        assert name not in html
    audit = admin.get("/admin/audit", query_string={"record_kind": probe, "action": probe})
    assert audit.status_code in (200, 400, 422)
    reference = admin.post(f"/queue/{world.slug['A']}/appointment", data={"appt-reference": probe})
    assert reference.status_code in (302, 303, 422)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == len(
        world.appointment
    )


def test_like_wildcards_in_a_search_match_only_themselves(app, world):
    admin = login(app, "admin", world)
    for wildcard in ("%", "_", "%@example.org", "familie-a1@example.org%"):
        html = admin.post("/admin/privacy/search", data={"contact": wildcard}).get_data(
            as_text=True
        )
        assert world.family_name["A1"] not in html, wildcard
    html = admin.post("/admin/privacy/search", data={"contact": "familie-a1@example.org"}).get_data(
        as_text=True
    )
    assert world.family_name["A1"] in html  # the control: the real address finds it
