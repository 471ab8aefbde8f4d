"""Prometheus metrics: requests by endpoint and status, booking outcomes, outbox, callbacks.

Counters live in this process, or, under gunicorn, in files shared by its workers
(prometheus_client's multiprocess mode: gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before
anything imports prometheus_client and empties it at start). The outbox and callback figures are
read from the database at each scrape, so any worker of any server answers the same.
"""

import os
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "sprechstunde_http_requests",
    "HTTP requests answered, by endpoint (the route's name, never the raw path) and status.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "sprechstunde_http_request_duration_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
BOOKINGS = Counter(
    "sprechstunde_booking_outcomes",
    "Bookings, moves and family cancellations: ok (counted when committed) or the refusal.",
    ["action", "outcome"],
    registry=REGISTRY,
)

PENDING_KEY = "metrics_pending"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def _outcome_code(error: Exception) -> str:
    """SlotTaken -> slot_taken, TooLate -> too_late, AppointmentError -> refused."""
    name = type(error).__name__
    if name == "AppointmentError":
        return "refused"
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def counts_outcome(action: str) -> Callable[[Callable], Callable]:
    """Count a booking service's result: a refusal at once, a success when it is committed."""

    def decorator(service: Callable) -> Callable:
        @wraps(service)
        def counted(*args: Any, **kwargs: Any):
            from booking.core.exceptions import BookingError
            from booking.extensions import db

            try:
                result = service(*args, **kwargs)
            except BookingError as error:
                BOOKINGS.labels(action, _outcome_code(error)).inc()
                raise
            db.session().info.setdefault(PENDING_KEY, []).append((action, "ok"))
            return result

        return counted

    return decorator


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for action, outcome in session.info.pop(PENDING_KEY, []):
        BOOKINGS.labels(action, outcome).inc()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


class DatabaseCollector(Collector):
    """Figures read from the database when scraped: the same on every worker and server."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from booking.callbacks.models import OPEN_STATES, CallbackRequest
        from booking.db import utcnow
        from booking.extensions import db
        from booking.notify.models import OutboxMessage, OutboxStatus

        now = utcnow()
        rows = db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
        by_status = {status: count for status, count in rows}
        backlog = GaugeMetricFamily(
            "sprechstunde_outbox_messages",
            "Messages in the outbox by status (pending and sending: the backlog; failed: "
            "given up after the last attempt).",
            labels=["status"],
        )
        for status in OutboxStatus:
            backlog.add_metric([status.value], by_status.get(status, 0))
        yield backlog
        oldest = db.session.scalar(
            select(func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
            )
        )
        yield GaugeMetricFamily(
            "sprechstunde_outbox_oldest_pending_seconds",
            "Age of the oldest message not yet sent (0: none waiting).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        retried = db.session.scalar(
            select(func.count()).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0
            )
        )
        yield GaugeMetricFamily(
            "sprechstunde_outbox_retrying_messages",
            "Pending messages whose last attempt failed (they will be tried again).",
            value=retried or 0,
        )
        overdue = db.session.scalar(
            select(func.count()).where(
                CallbackRequest.status.in_(list(OPEN_STATES)), CallbackRequest.due_at < now
            )
        )
        yield GaugeMetricFamily(
            "sprechstunde_callbacks_overdue",
            "Open callback requests past their due time.",
            value=overdue or 0,
        )


def render() -> Response:
    """The exposition text: this process's (or all workers') counters, then the database's."""
    directory = multiprocess_dir()
    if directory:
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters, path=directory)
    else:
        counters = REGISTRY
    from_database = CollectorRegistry(auto_describe=False)
    from_database.register(DatabaseCollector())
    body = generate_latest(counters) + generate_latest(from_database)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"  # 404s: one label, never the raw path
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        DURATION.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    # after_request hooks run last-registered first: put first, it runs after the commit hook,
    # so an answer that a failed commit turned into a 503 is counted as the 503 it is.
    app.after_request_funcs.setdefault(None, []).insert(0, _count_request)
