"""Benchmark: many families racing for the same week of slots, through the booking service.

Threads book random free times of one service (4 caseworkers, one week) until the week is
full; every conflict must end as "slot taken", never as an error or a double booking.
Run: `make bench` (SQLite) or with BOOKING_BENCH_DATABASE_URI=postgresql+psycopg://… .
"""

import os
import platform
import random
import sys
import tempfile
import threading
import time as clock
from datetime import UTC, datetime, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade
from sqlalchemy import func, select, text

from booking import create_app
from booking.appointments.booking import (
    SlotTaken,
    book_appointment,
    check_family_details,
)
from booking.appointments.models import Appointment
from booking.auth.models import Role, StaffUser
from booking.extensions import db
from booking.offices.models import Office, OfficeKind, Service
from booking.schedule.models import WeeklyHours
from booking.schedule.services import find_free_slots

THREADS = 8
NOW = datetime(2027, 3, 1, 7, tzinfo=UTC)


def make_app(uri: str):
    app = create_app(
        {
            "TESTING": True,
            "ENVIRONMENT": "testing",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": uri,
            "RATELIMIT_ENABLED": False,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2}
            if uri.startswith("postgresql")
            else {},
        },
        instance_path=tempfile.mkdtemp(),
    )
    with app.app_context():
        upgrade()
        office = Office(slug="bench", name="Bench", kind=OfficeKind.UNIT, address="x", operator="x")
        service = Service(
            office=office, slug="bench", name="Bench", minutes=30, max_open_bookings_per_contact=99
        )
        db.session.add_all([office, service])
        db.session.flush()
        for n in range(4):
            user = StaffUser(email=f"s{n}@example.org", name=f"S{n}", role=Role.CASEWORKER)
            user.offices, user.services = [office], [service]
            db.session.add(user)
            db.session.flush()
            for weekday in range(5):
                db.session.add(
                    WeeklyHours(
                        staff_id=user.id,
                        office_id=office.id,
                        weekday=weekday,
                        start_time=time(8),
                        end_time=time(16),
                    )
                )
        db.session.commit()
    return app


def race(app) -> dict:
    with app.app_context():
        service = db.session.scalar(select(Service))
        slots = find_free_slots(service, NOW.date(), NOW.date().replace(day=7), NOW)
        starts = [slot.start for slot in slots]
        capacity = sum(len(slot.staff_ids) for slot in slots)
    counts = {"booked": 0, "taken": 0, "error": 0}
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 (load pattern, not secrets)
        with app.app_context():
            service = db.session.get(Service, 1) or db.session.scalar(select(Service))
            misses = 0
            while misses < 40:
                start = rng.choice(starts)
                family = check_family_details(
                    f"F{seed}", f"f{seed}@example.org", None, "de", False, ""
                )
                try:
                    book_appointment(service, start, family, NOW)
                    db.session.commit()
                    outcome = "booked"
                    misses = 0
                except SlotTaken:
                    db.session.rollback()
                    outcome = "taken"
                    misses += 1
                except Exception as error:  # counted: the benchmark fails on any
                    db.session.rollback()
                    outcome = "error"
                    misses += 1
                    print(f"error: {type(error).__name__}: {str(error)[:400]!r}", file=sys.stderr)
                with lock:
                    counts[outcome] += 1

    started = clock.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = clock.perf_counter() - started
    with app.app_context():
        db.session.commit()
        stored = db.session.scalar(select(func.count()).select_from(Appointment))
        overlaps = db.session.execute(
            text(
                "SELECT count(*) FROM appointment a JOIN appointment b ON a.staff_id = b.staff_id"
                " AND a.id < b.id AND a.starts_at < b.busy_until AND b.starts_at < a.busy_until"
            )
        ).scalar()
    return {
        "capacity": capacity,
        "stored": stored,
        "overlaps": overlaps,
        "elapsed_s": elapsed,
        "bookings_per_s": counts["booked"] / elapsed,
        **counts,
    }


def main() -> None:
    uri = os.environ.get("BOOKING_BENCH_DATABASE_URI")
    if not uri:
        uri = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    result = race(make_app(uri))
    engine = uri.split(":", 1)[0]
    print(
        f"# booking race, {datetime.now(UTC):%Y-%m-%d}, {engine}, {THREADS} threads, "
        f"Python {platform.python_version()}"
    )
    for key, value in result.items():
        print(f"{key:>15}: {value:.2f}" if isinstance(value, float) else f"{key:>15}: {value}")
    if result["error"] or result["overlaps"] or result["stored"] != result["capacity"]:
        sys.exit("FAILED: errors, overlaps or unfilled slots")


if __name__ == "__main__":
    main()
