"""POST /api/v1/callbacks: telephone systems and the contact centre create callback requests.

Auth is a Bearer key of one office (only its SHA-256 is stored). No cookies, no CSRF; every
answer is JSON: 201 created, 401 no valid key, 403 a key of another office, 422 field errors,
400 malformed JSON, 415 not JSON, 429 rate limited. An Idempotency-Key works as for bookings
(booking.api.idempotency), counted per telephone-system key and checked after the key.
"""

import hashlib

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from booking.api.idempotency import idempotent
from booking.api.openapi import IDEMPOTENCY_KEY, KEY_REUSED
from booking.callbacks.due import BERLIN
from booking.callbacks.models import CallbackApiKey, CallbackError, CallbackRequest, CallbackSource
from booking.callbacks.services import (
    InvalidCallbackDetails,
    check_caller_details,
    create_request,
    key_for_secret,
)
from booking.core.access import public
from booking.core.transactions import DatabaseBusy
from booking.db import utcnow
from booking.extensions import csrf, db, limiter
from booking.offices.models import Office, Service

bp = Blueprint("callbacks_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

# Per key: a telephone system may send bursts; per address as well, so that made-up keys
# (each its own bucket) cannot get round it.
CREATE_LIMIT = "60 per minute; 1000 per hour"
ADDRESS_LIMIT = "300 per minute"
STRING_FIELDS = ("office", "name", "phone", "topic", "language", "note")
BOOLEAN_FIELDS = ("interpreter", "urgent")
OTHER_TOPIC = "other"


class ApiAnswer(Exception):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


@bp.errorhandler(ApiAnswer)
def handle_answer(answer: ApiAnswer):
    db.session.rollback()
    return jsonify(answer.body), answer.status


@bp.errorhandler(DatabaseBusy)
def handle_busy(error: DatabaseBusy):
    db.session.rollback()
    return jsonify({"error": "busy"}), 503


def bearer_secret() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def rate_limit_key() -> str:
    """Count per key (hashed: no secret in the limiter's storage), else per address."""
    secret = bearer_secret()
    if secret:
        return "callback-key:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "callback-addr:" + (request.remote_addr or "")


def authorised_key() -> CallbackApiKey:
    key = key_for_secret(bearer_secret())
    if key is None:
        raise ApiAnswer(401, {"error": "unauthorized"})
    return key


def json_object() -> dict:
    if request.mimetype != "application/json":
        raise ApiAnswer(415, {"error": "the body must be JSON (Content-Type: application/json)"})
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiAnswer(400, {"error": "malformed JSON: expected an object"})
    return body


def type_errors(body: dict) -> dict[str, str]:
    errors = {}
    for name in STRING_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            errors[name] = _("Please check your entries")
    for name in BOOLEAN_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], bool):
            errors[name] = _("Please check your entries")
    for name in ("office", "name", "phone"):
        if name not in errors and not (body.get(name) or "").strip():
            errors[name] = (
                _("Please enter a name.") if name == "name" else _("Please check your entries")
            )
    return errors


def topic_of(office: Office, slug: str | None) -> tuple[Service | None, str | None]:
    """The service named by `topic`, or None for "other"; an error text for anything else."""
    if slug is None or slug == OTHER_TOPIC:
        return None, None
    service = db.session.scalar(
        select(Service).where(
            Service.slug == slug, Service.office_id == office.id, Service.active.is_(True)
        )
    )
    if service is None:
        return None, _("Please choose one of this office's services or “other”.")
    return service, None


def iso(instant) -> str:
    return instant.astimezone(BERLIN).isoformat()


def request_json(found: CallbackRequest) -> dict:
    return {
        "reference": found.reference,
        "office": found.office.slug,
        "status": found.status.value,
        "phone": found.phone,
        "received_at": iso(found.received_at),
        "due_at": iso(found.due_at),
    }


@bp.route("/callbacks", methods=["POST"])
@limiter.limit(ADDRESS_LIMIT)
@limiter.limit(CREATE_LIMIT, key_func=rate_limit_key)
@public  # guarded by the office's key, checked below
def create():
    key = authorised_key()
    # Retries of one telephone system count once; another system's keys are its own.
    return idempotent(f"callbacks:{key.id}")(create_for)(key)


def create_for(key: CallbackApiKey):
    body = json_object()
    errors = type_errors(body)
    if "office" not in errors and body["office"].strip() != key.office.slug:
        raise ApiAnswer(403, {"error": "forbidden"})
    if errors:
        raise ApiAnswer(422, {"errors": errors})
    office = key.office
    if not office.active:
        raise ApiAnswer(403, {"error": "forbidden"})
    service, topic_error = topic_of(office, body.get("topic"))
    try:
        details = check_caller_details(
            office,
            body["name"],
            body["phone"],
            service=service,
            language=body.get("language") or "de",
            interpreter_needed=body.get("interpreter") is True,
            urgent=body.get("urgent") is True,
            note=body.get("note") or "",
        )
    except InvalidCallbackDetails as error:
        errors = {name: str(message) for name, message in error.errors.items()}
    if topic_error:
        errors["topic"] = topic_error
    if errors:
        raise ApiAnswer(422, {"errors": errors})
    now = utcnow()
    try:
        created = create_request(office, details, now, source=CallbackSource.API, api_key=key)
    except CallbackError as error:
        raise ApiAnswer(422, {"errors": {error.field or "office": str(error.message)}}) from None
    key.last_used_at = now
    return jsonify(request_json(created)), 201


# OpenAPI: added to the public API's document (booking/api/openapi.py).

ISO_TIME = {"type": "string", "format": "date-time", "examples": ["2027-03-31T16:00:00+02:00"]}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_to_openapi(document: dict) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    field_errors = {
        "type": "object",
        "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}},
        "required": ["errors"],
    }
    document["paths"]["/callbacks"] = {
        "post": {
            "summary": "Create a callback request (telephone systems, contact centre)",
            "description": (
                "Needs `Authorization: Bearer KEY` with a key of the office named in the body; "
                "admins make keys on the office's admin page or with "
                "`flask --app wsgi callbacks new-key OFFICE_SLUG`. The request is due at the "
                "office's due time on the Nth working day after the call (urgent: the next)."
            ),
            "security": [{"officeKey": []}],
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CallbackNew"}}
                },
            },
            "responses": {
                "201": _json({"$ref": "#/components/schemas/Callback"}, "Created"),
                "400": _json(error, "Malformed JSON or a bad Idempotency-Key"),
                "401": _json(error, "unauthorized: no valid key (missing, unknown or revoked)"),
                "403": _json(error, "forbidden: the key belongs to another office"),
                "415": _json(error, "Body is not JSON"),
                "422": _json(
                    {"anyOf": [field_errors, error]},
                    f"Invalid fields (an invalid number: `phone`), or {KEY_REUSED}",
                ),
                "429": _json(error, "Rate limited"),
                "503": _json(error, "busy: try again"),
            },
        }
    }
    schemas = document["components"]["schemas"]
    schemas["CallbackNew"] = {
        "type": "object",
        "required": ["office", "name", "phone"],
        "properties": {
            "office": {"type": "string", "description": "The office's slug"},
            "name": {"type": "string", "maxLength": 120},
            "phone": {"type": "string", "description": "German numbers without +49 are fine"},
            "topic": {"type": "string", "description": 'A service slug of the office or "other"'},
            "language": {"type": "string", "examples": ["de", "ar"]},
            "interpreter": {"type": "boolean"},
            "urgent": {"type": "boolean"},
            "note": {"type": "string", "maxLength": 500},
        },
    }
    schemas["Callback"] = {
        "type": "object",
        "required": ["reference", "office", "status", "phone", "received_at", "due_at"],
        "properties": {
            "reference": {"type": "string"},
            "office": {"type": "string"},
            "status": {"const": "new"},
            "phone": {"type": "string", "description": "E.164", "examples": ["+492111234567"]},
            "received_at": ISO_TIME,
            "due_at": ISO_TIME,
        },
    }
    document.setdefault("components", {}).setdefault("securitySchemes", {})["officeKey"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A key of one office; shown once when made, stored hashed.",
    }
