"""Schemathesis against /api/v1/openapi.json with credentials: the callback API with a real
office key (tests/test_fuzz_api.py covers every operation without one), and the booking
operations on a real, live manage token. No 5xx, and every answer (status, content type,
body) is the one the document describes. Derandomised and bounded: no network, the same
examples in every run, well under a minute."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def schema(app_factory, world, runner):
    app = app_factory(RATELIMIT_ENABLED=False)
    result = runner.invoke(args=["callbacks", "new-key", world.slug["A"]])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), key


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_the_callback_api_with_a_real_key_answers_as_documented(schema, world, mode):
    document, key = schema
    operation = document["/callbacks"]["POST"]
    offices = [world.slug["A"], world.slug["B"]]

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
        if mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            # A real office (its own, or another office's: 403) so the values get further.
            case.body["office"] = offices[len(str(case.body)) % 2]
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.mark.parametrize(
    ("path", "method", "mode"),
    [
        ("/bookings/{manage_token}", "GET", GenerationMode.POSITIVE),
        ("/bookings/{manage_token}/move", "POST", GenerationMode.NEGATIVE),
        ("/bookings/{manage_token}/move", "POST", GenerationMode.POSITIVE),
        ("/bookings/{manage_token}/cancel", "POST", GenerationMode.POSITIVE),
    ],
    ids=["get", "move-negative", "move-positive", "cancel"],
)
def test_the_booking_operations_on_a_live_token_answer_as_documented(
    schema, world, path, method, mode
):
    document, _ = schema
    operation = document[path][method]
    token = world.token["B1"]

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.path_parameters = {"manage_token": token}
        case.call_and_validate(checks=CHECKS)

    check()
