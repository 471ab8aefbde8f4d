"""Profile `POST /api/v1/bookings` in one process (no HTTP server): where a booking's time goes.

    .venv/bin/python bench/profile_booking.py [--engine sqlite|postgresql] [-n 300] [--profile]
        [--statements] [--show-sql] [--dump FILE]

Seeds issue 11's data shape (bench/http_load.py), then books N distinct free times through the
Flask test client and prints milliseconds per booking (and, with --profile, the top functions;
with --statements, the time in the driver per statement; --dump writes the profile for pstats).
"""

import argparse
import cProfile
import json
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import http_load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--show-sql", action="store_true", help="the last booking's statements")
    parser.add_argument(
        "--statements", action="store_true", help="time in the driver per statement, in µs"
    )
    parser.add_argument("--dump", help="write the profile to this file (for pstats or snakeviz)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    if args.engine == "sqlite":
        uri, drop = http_load.sqlite_database(workdir)
    else:
        uri, drop = http_load.postgres_database()
    try:
        data = http_load.seed(uri, history=False)
        app = http_load.make_app(uri)
        client = app.test_client()
        free = list(data["free"])
        random.Random(8).shuffle(free)  # noqa: S311
        bodies = [http_load.booking_body(data, start, n) for n, start in enumerate(free)]
        warm, measured = bodies[:20], bodies[20 : 20 + args.n]
        for body in warm:
            response = client.post("/api/v1/bookings", data=body, content_type="application/json")
            assert response.status_code == 201, response.get_data(as_text=True)
        import sqlalchemy as sa

        from booking.extensions import db

        statements = [0]

        last: list[str] = []

        def count(_connection, _cursor, statement, *_args, **_kwargs):
            statements[0] += 1
            if "JOIN office" in statement and "service.slug" in statement:
                last.clear()
            last.append(" ".join(statement.split())[:150])

        timings: dict[str, list[float]] = {}
        began = [0.0]

        def before(*_args, **_kwargs):
            began[0] = time.perf_counter()

        def after(_connection, _cursor, statement, *_args, **_kwargs):
            key = " ".join(statement.split())[:60]
            timings.setdefault(key, []).append(time.perf_counter() - began[0])

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", count)
            if args.statements:
                sa.event.listen(db.engine, "before_cursor_execute", before)
                sa.event.listen(db.engine, "after_cursor_execute", after)
        statements[0] = 0
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for body in measured:
            response = client.post("/api/v1/bookings", data=body, content_type="application/json")
            if response.status_code != 201:
                raise SystemExit(f"{response.status_code} {response.get_data(as_text=True)}")
        if profiler:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            json.dumps(
                {
                    "engine": args.engine,
                    "bookings": len(measured),
                    "ms_per_booking": round(elapsed * 1000 / len(measured), 3),
                    "cpu_ms_per_booking": round(cpu * 1000 / len(measured), 3),
                    "statements_per_booking": round(statements[0] / len(measured), 1),
                }
            )
        )
        if args.statements:
            for key, spent in sorted(timings.items(), key=lambda item: -sum(item[1])):
                per_booking = sum(spent) * 1e6 / len(measured)
                print(f"{per_booking:8.1f} µs/booking {len(spent) / len(measured):5.2f}×  {key}")
        if args.show_sql:
            print("\n".join(last))
        if profiler:
            stats = pstats.Stats(profiler)
            if args.dump:
                stats.dump_stats(args.dump)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(25)
    finally:
        drop()


if __name__ == "__main__":
    main()
