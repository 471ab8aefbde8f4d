"""OpenAPI 3.1 description of the public API v1, served at /api/v1/openapi.json."""

ISO_TIME = {"type": "string", "format": "date-time", "examples": ["2027-03-30T09:00:00+02:00"]}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
FIELD_ERRORS = {
    "type": "object",
    "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}},
    "required": ["errors"],
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


DATE_PARAMS = [
    {
        "name": name,
        "in": "query",
        "required": True,
        "description": "Local date (Europe/Berlin), inclusive; from–to spans at most 92 days.",
        "schema": {"type": "string", "format": "date"},
    }
    for name in ("from", "to")
]
TOKEN_PARAM = {
    "name": "manage_token",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The secret from the booking response; keep it private.",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[!-~]{1,64}$"},
    "description": (
        "Makes a retry safe: the same key with the same request within 24 hours gets the "
        "first successful answer again (same status and body) and changes nothing more; the "
        "same key with another request gets 422 idempotency_key_reused. 1-64 visible ASCII "
        "characters (e.g. a UUID); keys count per endpoint. Refusals are not kept."
    ),
}
KEY_REUSED = "idempotency_key_reused: this Idempotency-Key was used for another request"
COMMON = {
    "429": _json(_ref("Error"), "Rate limited"),
}
# Any request with control characters in its address, query or JSON strings is refused.
BAD_TOKEN = {"400": _json(_ref("Error"), "Control characters in the token")}


def openapi_document() -> dict:
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "Sprechstunde public API",
            "version": "1.0.0",
            "description": (
                "Availability and booking for the youth and social services of Düsseldorf. "
                "No cookies, no CSRF; times are ISO 8601 with the Europe/Berlin offset; "
                "errors are JSON."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/offices": {
                "get": {
                    "summary": "Offices with their publicly bookable services",
                    "responses": {
                        "200": _json({"type": "array", "items": _ref("Office")}, "Offices"),
                        **COMMON,
                    },
                }
            },
            "/slots": {
                "get": {
                    "summary": "Free slots of a service, in time order",
                    "parameters": [
                        {
                            "name": "service",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        *DATE_PARAMS,
                        {
                            "name": "If-None-Match",
                            "in": "header",
                            "required": False,
                            "description": "The ETag of an earlier answer: 304 while unchanged.",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("Slots"), "Free slots (with an ETag)"),
                        "304": {"description": "Unchanged since the answer with this ETag"},
                        "400": _json(_ref("Error"), "Missing or bad parameters"),
                        "404": _json(_ref("Error"), "Unknown or staff-only service"),
                        **COMMON,
                    },
                }
            },
            "/bookings": {
                "post": {
                    "summary": "Book a slot",
                    "parameters": [IDEMPOTENCY_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("BookingRequest")}},
                    },
                    "responses": {
                        "201": _json(_ref("BookingCreated"), "Booked"),
                        "400": _json(_ref("Error"), "Malformed JSON or a bad Idempotency-Key"),
                        "409": _json(
                            _ref("Error"),
                            "slot_taken: nobody is free any more; slot_not_released: kept for "
                            "phone and desk bookings until its release",
                        ),
                        "415": _json(_ref("Error"), "Body is not JSON"),
                        "422": _json(
                            {"anyOf": [FIELD_ERRORS, _ref("Error")]},
                            f"Invalid fields, or {KEY_REUSED}",
                        ),
                        **COMMON,
                    },
                }
            },
            "/bookings/{manage_token}": {
                "get": {
                    "summary": "A booking by its manage token",
                    "parameters": [TOKEN_PARAM],
                    "responses": {
                        "200": _json(_ref("Booking"), "The booking"),
                        **BAD_TOKEN,
                        "404": _json(_ref("Error"), "Unknown or expired token"),
                        **COMMON,
                    },
                }
            },
            "/bookings/{manage_token}/cancel": {
                "post": {
                    "summary": "Cancel; the slot is free again at once",
                    "parameters": [TOKEN_PARAM, IDEMPOTENCY_KEY],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"status": {"const": "cancelled"}},
                            },
                            "Cancelled",
                        ),
                        "400": _json(
                            _ref("Error"),
                            "Control characters in the token or a bad Idempotency-Key",
                        ),
                        "404": _json(_ref("Error"), "Unknown or expired token"),
                        "409": _json(_ref("Error"), "too_late: inside the minimum notice"),
                        "422": _json(_ref("Error"), KEY_REUSED),
                        **COMMON,
                    },
                }
            },
            "/bookings/{manage_token}/move": {
                "post": {
                    "summary": "Move to another free slot of the same service",
                    "parameters": [TOKEN_PARAM, IDEMPOTENCY_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"start": ISO_TIME},
                                    "required": ["start"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(_ref("BookingCreated"), "Moved; a new manage_token"),
                        "400": _json(
                            _ref("Error"), "Malformed JSON, a bad token or a bad Idempotency-Key"
                        ),
                        "404": _json(_ref("Error"), "Unknown or expired token"),
                        "409": _json(_ref("Error"), "slot_taken, slot_not_released or too_late"),
                        "415": _json(_ref("Error"), "Body is not JSON"),
                        "422": _json(
                            {"anyOf": [FIELD_ERRORS, _ref("Error")]},
                            f"Not a slot time, or {KEY_REUSED}",
                        ),
                        **COMMON,
                    },
                }
            },
            "/consultation-hours": {
                "get": {
                    "summary": "Open consultation hours of an office, cancelled ones included",
                    "parameters": [
                        {
                            "name": "office",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        *DATE_PARAMS,
                    ],
                    "responses": {
                        "200": _json(_ref("ConsultationHours"), "Occurrences in time order"),
                        "400": _json(_ref("Error"), "Missing or bad parameters"),
                        "404": _json(_ref("Error"), "Unknown office"),
                        **COMMON,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": ERROR,
                "Office": {
                    "type": "object",
                    "required": ["slug", "name", "kind", "district", "address", "operator"],
                    "properties": {
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "kind": {"enum": ["unit", "welcome_point"]},
                        "district": {"type": ["integer", "null"], "minimum": 1, "maximum": 10},
                        "address": {"type": "string"},
                        "operator": {"type": "string"},
                        "services": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "slug": {"type": "string"},
                                    "name": {"type": "string"},
                                    "minutes": {"type": "integer"},
                                },
                            },
                        },
                    },
                },
                "Slots": {
                    "type": "object",
                    "properties": {
                        "service": {"type": "string"},
                        "timezone": {"const": "Europe/Berlin"},
                        "slots": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"start": ISO_TIME, "end": ISO_TIME},
                            },
                        },
                    },
                },
                "BookingRequest": {
                    "type": "object",
                    "required": ["service", "start", "name", "privacy_consent"],
                    "properties": {
                        "service": {"type": "string"},
                        "start": ISO_TIME,
                        "name": {"type": "string", "maxLength": 120},
                        "email": {"type": "string", "format": "email"},
                        "phone": {"type": "string"},
                        "language": {"type": "string", "examples": ["de", "ar"]},
                        "interpreter": {"type": "boolean"},
                        "note": {"type": "string", "maxLength": 500},
                        "privacy_consent": {"const": True},
                    },
                    "description": "At least one of email and phone is required.",
                },
                "Booking": {
                    "type": "object",
                    "properties": {
                        "reference": {"type": "string"},
                        "service": {"type": "string"},
                        "office": {"type": "string"},
                        "start": ISO_TIME,
                        "end": ISO_TIME,
                        "status": {"enum": ["booked", "cancelled"]},
                    },
                },
                "BookingCreated": {
                    "allOf": [
                        _ref("Booking"),
                        {
                            "type": "object",
                            "properties": {"manage_token": {"type": "string"}},
                            "required": ["manage_token"],
                        },
                    ]
                },
                "ConsultationHours": {
                    "type": "object",
                    "properties": {
                        "office": {"type": "string"},
                        "timezone": {"const": "Europe/Berlin"},
                        "consultation_hours": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "start": ISO_TIME,
                                    "end": ISO_TIME,
                                    "status": {"enum": ["scheduled", "cancelled"]},
                                    "reason": {
                                        "enum": ["holiday", "closure", "nobody_on_duty", None]
                                    },
                                    "detail": {"type": ["string", "null"]},
                                },
                            },
                        },
                    },
                },
            }
        },
    }
    from booking.callbacks.api import add_to_openapi  # the callbacks blueprint's own path

    add_to_openapi(document)
    return document
