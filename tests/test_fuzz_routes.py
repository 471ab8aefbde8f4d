"""Property-based tests over every route of the URL map: hostile input never gets a 5xx.

Each route is called with GET and POST (where it has them), anonymously and logged in as
admin (and as caseworker or reception where the page is theirs), on the demo data plus one
booking made through the API.
Path parts, query parameters and form fields (every field name of every form in the app)
get real values, hostile strings (NUL, far-off dates, ids beyond 64 bits, very long text)
and arbitrary text. An error answer must be in the page's own format: the HTML layout, or
JSON `{"error": ...}` / `{"errors": {...}}` under /api/. Derandomised for CI.
"""

import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from booking import create_app
from booking.appointments.models import Appointment
from booking.auth.models import StaffUser
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.offices.models import Office, Service
from booking.schedule.models import Absence, Closure, ConsultationHours, WeeklyHours
from tests.conftest import IsolatedClient, IsolatedCliRunner, clear_database, make_test_config

DEMO_PASSWORD = "Sprechstunde-Demo-2026"
ROLES = {
    "anonymous": None,
    "admin": "admin@example.org",
    "caseworker": "k.becker@example.org",
    "reception": "empfang.35a@example.org",
}
# Query parameters the views read, plus a few they do not.
QUERY_NAMES = (
    "week", "day", "view", "start", "staff", "office", "page", "action", "status", "lang",
    "next", "service", "from", "to", "show", "cancelled", "q", "id",
)  # fmt: skip
# Routes whose answer ends the fuzzing client's session or is not a page.
SKIPPED_ENDPOINTS = {"static", "auth.logout"}
HOSTILE_STRINGS = (
    "", " ", "\x00", "a\x00b", "\x01\x1f\x7f", "\t\r\n", "\u202e\u200b", "\ufeff", "ä", "العربية",
    "0", "-1", "1.5", "1e309", "NaN", "true", "null", "[]", "{}", "%00", "%", "..", "../../etc",
    str(2**31 - 1), str(2**31), str(2**63), str(2**64), str(2**70), "9" * 5000, "x" * 5000,
    "0001-01-01", "9999-12-31", "9999-12-27", "2027-02-30", "2027-13-01", "1970-01-01",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2027-03-04T10:00:00",
    "2027-03-04T10:00:00+01:00", "2027-03-04T10:00:00+99:00", "25:61", "23:59", "00:00",
    "<script>alert(1)</script>", "' OR '1'='1", "a@b", "x@example.org", "+49 211 899 0",
    "week", "day", "de", "en", "xx", "admin", "caseworker", "vacation", "phone", "desk",
)  # fmt: skip
HOSTILE_INTS = ("0", "1", str(2**31 - 1), str(2**31), str(2**63), str(2**70), "9" * 5000)
FUZZ_SETTINGS = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


class World:
    """The fuzzing app with its demo data: real ids, slugs, a manage token, field names."""

    def __init__(self, app, token: str, start: str) -> None:
        self.app = app
        with app.app_context():
            self.ids = sorted(
                {
                    str(row_id)
                    for model in (
                        Office,
                        Service,
                        StaffUser,
                        Appointment,
                        Absence,
                        Closure,
                        ConsultationHours,
                        WeeklyHours,
                        OutboxMessage,
                    )
                    for row_id in db.session.scalars(select(model.id))
                },
                key=int,
            )
            self.slugs = sorted(
                {
                    *db.session.scalars(select(Office.slug)),
                    *db.session.scalars(select(Service.slug)),
                }
            )
        self.token = token
        self.start = start
        self.field_names = sorted(form_field_names())
        self.clients = {role: app.test_client() for role in ROLES}

    def client(self, role: str):
        client = self.clients[role]
        email = ROLES[role]
        if email is not None:
            with client.session_transaction() as session:
                logged_in = "_user_id" in session
            if not logged_in:
                response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
                assert response.status_code == 302, f"{role} could not log in"
        return client

    def strings(self):
        real = [*self.slugs, *self.ids, self.token, self.start, date.today().isoformat()]
        return st.one_of(
            st.sampled_from(HOSTILE_STRINGS), st.sampled_from(real), st.text(max_size=40)
        )

    def ints(self):
        return st.one_of(
            st.sampled_from(self.ids),
            st.sampled_from(HOSTILE_INTS),
            st.integers(min_value=0, max_value=2**80).map(str),
        )


def form_field_names() -> set[str]:
    """Every field name of every WTForms form in the app (the app imports them all)."""
    names = {"csrf_token", "choose", "confirm", "submit"}
    forms = [FlaskForm]
    while forms:
        form = forms.pop()
        forms.extend(form.__subclasses__())
        if form.__module__.startswith("booking."):
            names.update(
                name for name in dir(form) if isinstance(getattr(form, name), UnboundField)
            )
    return names


def real_booking(client) -> tuple[str, str]:
    """Book the first free slot of the § 35a consultation through the API: token, start."""
    today = date.today()
    slots = client.get(
        "/api/v1/slots",
        query_string={
            "service": "beratung-35a",
            "from": today.isoformat(),
            "to": (today + timedelta(days=60)).isoformat(),
        },
    ).json["slots"]
    booked = client.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": slots[-1]["start"],
            "name": "Familie Fuzz",
            "email": "fuzz@example.org",
            "privacy_consent": True,
        },
    )
    assert booked.status_code == 201, booked.json
    return booked.json["manage_token"], slots[0]["start"]


@pytest.fixture(scope="module")
def world(database_uri, tmp_path_factory):
    app = create_app(
        make_test_config(database_uri, RATELIMIT_ENABLED=False),
        instance_path=str(tmp_path_factory.mktemp("fuzz-instance")),
    )
    app.test_client_class = IsolatedClient
    app.test_cli_runner_class = IsolatedCliRunner
    result = app.test_cli_runner().invoke(args=["setup", "demo"])
    assert result.exit_code == 0, result.output
    token, start = real_booking(app.test_client())
    yield World(app, token, start)
    with app.app_context():
        clear_database()
        db.engine.dispose()


def roles_for(rule: str) -> list[str]:
    """Anonymous and admin everywhere; the role a staff page is made for, too."""
    roles = ["anonymous", "admin"]
    if rule.startswith("/calendar"):
        roles.append("caseworker")
    if rule.startswith(("/desk", "/calendar/office")):
        roles.append("reception")
    return roles


def routes() -> list:
    app = create_app(make_test_config("sqlite://"))
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            for role in roles_for(rule.rule):
                found.append(
                    pytest.param(rule.rule, method, role, id=f"{method} {rule.rule} {role}")
                )
    return found


def build_path(data, world: World, rule: str) -> str:
    def part(match: re.Match) -> str:
        converter = match.group(1) or "default"
        value = data.draw(world.ints() if converter == "int" else world.strings())
        return quote(value, safe="")

    return CONVERTER.sub(part, rule)


def assert_own_format(path: str, response) -> None:
    status = response.status_code
    assert status < 500, f"{status} for {path}"
    if status < 400:
        return
    if path.startswith("/api/"):
        assert response.mimetype == "application/json", f"{status} for {path}"
        body = response.get_json()
        assert isinstance(body.get("error"), str) or isinstance(body.get("errors"), dict)
    else:
        assert response.mimetype == "text/html", f"{status} for {path}"
        assert '<main id="main"' in response.get_data(as_text=True), f"{status} for {path}"


@pytest.mark.parametrize("rule, method, role", routes())
def test_no_input_gets_a_server_error(world, rule, method, role):
    @FUZZ_SETTINGS
    @given(data=st.data())
    def check(data):
        path = build_path(data, world, rule)
        query = data.draw(
            st.dictionaries(st.sampled_from(QUERY_NAMES), world.strings(), max_size=4),
            label="query",
        )
        kwargs = {"query_string": query}
        if method == "POST" and path.startswith("/api/"):
            kwargs["json"] = data.draw(
                st.dictionaries(
                    st.sampled_from(
                        ("service", "start", "name", "email", "phone", "language", "note")
                    ),
                    st.one_of(world.strings(), st.integers(), st.booleans(), st.none()),
                ),
                label="json",
            )
        elif method == "POST":
            kwargs["data"] = data.draw(
                st.dictionaries(st.sampled_from(world.field_names), world.strings(), max_size=8),
                label="form",
            )
        response = world.client(role).open(path, method=method, **kwargs)
        assert_own_format(path, response)

    check()
