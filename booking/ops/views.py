"""/readyz (may this instance get traffic?) and /metrics (behind a token)."""

import hmac

from flask import Blueprint, abort, current_app, request
from sqlalchemy import text

from booking.core.access import public
from booking.extensions import db, limiter
from booking.ops import metrics
from booking.ops.schema import pending_migrations

bp = Blueprint("ops", __name__)


def _unready(reason: str, **checks: str):
    db.session.rollback()
    return {"status": "unavailable", "reason": reason, **checks}, 503


@bp.route("/readyz")
@limiter.exempt
@public
def readyz():
    """200 when the database answers with the current schema and Redis (if used) answers."""
    try:
        db.session.execute(text("SELECT 1"))
        pending = pending_migrations(db.session.connection())
    except Exception:  # any database failure means "not ready"
        current_app.logger.warning("readiness: database unreachable", exc_info=True)
        return _unready("database unreachable", database="down")
    if pending:
        return _unready(f"migrations pending: {pending}", database="up", migrations="pending")
    checks = {"database": "up", "migrations": "current"}
    storage_uri = str(current_app.config.get("RATELIMIT_STORAGE_URI", ""))
    if storage_uri.startswith(("redis://", "rediss://", "redis+")):
        try:
            reachable = limiter.storage.check()
        except Exception:  # the client raises on a refused connection
            reachable = False
        if not reachable:
            current_app.logger.warning("readiness: rate-limit storage (Redis) unreachable")
            return _unready("redis unreachable", **checks, redis="down")
        checks["redis"] = "up"
    else:
        checks["redis"] = "not configured"
    db.session.rollback()
    return {"status": "ready", **checks}, 200


@bp.route("/metrics")
@limiter.exempt
@public
def prometheus_metrics():
    """Prometheus text format; 404 unless METRICS_TOKEN is set, 401 without that token."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), token.encode()
    ):
        return (
            {"error": "unauthorized"},
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    response = metrics.render()
    response.headers["Cache-Control"] = "no-store"
    db.session.rollback()
    return response
