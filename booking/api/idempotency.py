"""Safe retries for the API's writes: an Idempotency-Key header makes a request count once.

The same key with the same request within 24 hours gets the first answer again (same status
and body); the same key with another request gets 422 idempotency_key_reused. Keys are
scoped per endpoint. Only successful answers are kept: a refusal changed nothing, so a retry
simply asks again. What is kept holds no readable manage token (sealed with a key derived
from SECRET_KEY), and is forgotten after 24 hours (booking.privacy).
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps

from flask import Response, jsonify, make_response, request
from sqlalchemy import delete, select, text

from booking.api.models import KEEP_ANSWERS_FOR, IdempotentAnswer
from booking.core.sealed import seal, unseal
from booking.core.transactions import begin_write
from booking.db import utcnow
from booking.extensions import db

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,64}")  # visible ASCII, no spaces
TOKEN_PURPOSE = "api-idempotency-manage-token"  # noqa: S105 (an HKDF label, no secret)
TOKEN_FIELD = "manage_token"  # noqa: S105 (a field name)


def request_hash() -> str:
    """The request as the key must match it: method, path and the JSON body (key order and
    spacing aside; a body that is no JSON counts byte for byte)."""
    body = request.get_json(silent=True)
    content = (
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        if body is not None
        else request.get_data()
    )
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(content)
    return digest.hexdigest()


def _lock(scope: str, key: str) -> None:
    """Requests with one key wait for each other (SQLite: the write lock already does it)."""
    begin_write()
    if db.session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"idempotency:{scope}:{key}".encode()).digest()
        lock_id = int.from_bytes(digest[:8], "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _replay(answer: IdempotentAnswer) -> Response:
    body = json.loads(answer.body)
    if answer.sealed_manage_token:
        body[TOKEN_FIELD] = unseal(answer.sealed_manage_token, TOKEN_PURPOSE)
    response = make_response(jsonify(body), answer.status)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _remember(scope: str, key: str, digest: str, response: Response, now: datetime) -> None:
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return
    token = body.pop(TOKEN_FIELD, None)
    db.session.add(
        IdempotentAnswer(
            scope=scope,
            key=key,
            request_hash=digest,
            status=response.status_code,
            body=json.dumps(body),
            sealed_manage_token=seal(token, TOKEN_PURPOSE) if isinstance(token, str) else None,
            created_at=now,
        )
    )
    db.session.flush()


def idempotent(scope: str) -> Callable:
    """Decorate an API view that writes. `scope` names the endpoint (keys count per scope)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            if not KEY_PATTERN.fullmatch(key):
                return jsonify({"error": "invalid_idempotency_key"}), 400
            digest = request_hash()
            now = utcnow()
            _lock(scope, key)
            answer = db.session.scalar(
                select(IdempotentAnswer).where(
                    IdempotentAnswer.scope == scope, IdempotentAnswer.key == key
                )
            )
            if answer is not None and answer.created_at > now - KEEP_ANSWERS_FOR:
                if answer.request_hash != digest:
                    return jsonify({"error": "idempotency_key_reused"}), 422
                return _replay(answer)
            if answer is not None:  # older than 24 hours: the key is free again
                db.session.execute(delete(IdempotentAnswer).where(IdempotentAnswer.id == answer.id))
            response = make_response(view(*args, **kwargs))
            if 200 <= response.status_code < 300:
                _remember(scope, key, digest, response, now)
            return response

        return wrapper

    return decorator
