"""Property-based tests of the public API against its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid ones and invalid ones; no answer may be a 5xx,
and every answer must be documented (status, content type, body schema). Half of the cases
carry usable dates or a real manage token, so that generated values reach the database.
Stateless and derandomised, so CI runs the same examples every time.
"""

from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from booking.api.openapi import openapi_document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
DOCUMENT = openapi_document()
OPERATIONS = [
    pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}")
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
    for mode in GenerationMode
    # Only a body or query parameters can be made invalid (any string is a valid token).
    if mode == GenerationMode.POSITIVE
    or "requestBody" in operation
    or any(parameter["in"] == "query" for parameter in operation.get("parameters", []))
]
FUZZ_SETTINGS = settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api(app_factory, bookable_service):
    """The API with one real booking; returns the schema and that booking's manage token."""
    app = app_factory(RATELIMIT_ENABLED=False)
    client = app.test_client()
    today = date.today()
    slots = client.get(
        "/api/v1/slots",
        query_string={
            "service": "beratung-35a",
            "from": today.isoformat(),
            "to": (today + timedelta(days=30)).isoformat(),
        },
    ).json["slots"]
    booked = client.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": slots[0]["start"],
            "name": "Familie Haddad",
            "email": "haddad@example.org",
            "privacy_consent": True,
        },
    )
    assert booked.status_code == 201
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), booked.json["manage_token"]


def usable(case, token: str, use: bool):
    """Replace generated dates and tokens by usable ones, so the other values get further."""
    if not use:
        return case
    if isinstance(case.query, dict) and "from" in case.query:
        today = date.today()
        case.query["from"] = today.isoformat()
        case.query["to"] = (today + timedelta(days=14)).isoformat()
    if isinstance(case.path_parameters, dict) and "manage_token" in case.path_parameters:
        case.path_parameters["manage_token"] = token
    return case


@pytest.mark.parametrize("method, path, mode", OPERATIONS)
def test_api_answers_as_documented(api, method, path, mode):
    schema, token = api
    operation = schema[path][method]
    cases = st.builds(
        usable, operation.as_strategy(generation_mode=mode), st.just(token), st.booleans()
    )

    @FUZZ_SETTINGS
    @given(case=cases)
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()
