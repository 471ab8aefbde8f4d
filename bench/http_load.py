"""Side-by-side HTTP benchmark: our app and a bare Flask floor under the same gunicorn settings.

For each engine (SQLite file, PostgreSQL database) it seeds the data shape of issue 11 (100
caseworkers in 11 offices; one service pooled over 20 of them, Mon-Fri 08-12 and 13-16, 45 + 15
minutes, 30 % of the next weeks booked; the history run adds 250,000 past appointments of all
100 over five years), starts `gunicorn -w 2` for our app and for bench/floor.py, and runs the
load in alternating rounds (ours, floor, ours, floor, ...), each for --seconds with --clients
threads. Prints and writes (bench/results/http-latest.md and .json) the median requests per second,
the median p95 latency and ours/floor. Load goes to 127.0.0.1 only and ends after a bounded time.

    make bench                                   # full run (both engines, with history)
    .venv/bin/python bench/http_load.py --smoke  # 2-second smoke of every scenario
"""

import argparse
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time as clock
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
BERLIN = ZoneInfo("Europe/Berlin")
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get(
    "BOOKING_PG_ADMIN_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "Bench-Password-2026"  # noqa: S105 (a throwaway database)
SLOT_STARTS = (time(8), time(9), time(10), time(11), time(13), time(14), time(15))


# Seeding


def make_app(uri: str):
    from booking import create_app

    return create_app(
        {
            "ENVIRONMENT": "testing",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": uri,
            "RATELIMIT_ENABLED": False,
        },
        instance_path=tempfile.mkdtemp(prefix="bench-instance-"),
    )


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, BERLIN).astimezone(UTC)


def seed(uri: str, history: bool, weeks: int = 9) -> dict:
    """The data shape of issue 11; returns what the load needs (slugs, logins, free starts)."""
    from flask_migrate import upgrade
    from sqlalchemy import func as sa_func
    from sqlalchemy import insert

    from booking.appointments.models import Appointment, AppointmentStatus, Channel, new_reference
    from booking.auth.models import Role, StaffUser
    from booking.auth.passwords import hash_password
    from booking.extensions import db
    from booking.offices.models import Office, OfficeKind, Service
    from booking.schedule.models import WeeklyHours

    rng = random.Random(11)  # noqa: S311 (load shape, not secrets)
    app = make_app(uri)
    with app.app_context():
        upgrade()
        offices = [
            Office(
                slug=f"office-{n}",
                name=f"Office {n}",
                kind=OfficeKind.WELCOME_POINT if n else OfficeKind.UNIT,
                address="Benchstraße 1, 40200 Düsseldorf",
                operator="Bench",
            )
            for n in range(11)
        ]
        services = [
            Service(
                office=office,
                slug=f"service-{n}",
                name=f"Beratung {n}",
                minutes=45,
                buffer_minutes=15,
                min_notice_hours=0,
                horizon_days=60,
                max_open_bookings_per_contact=2,
            )
            for n, office in enumerate(offices)
        ]
        db.session.add_all(offices + services)
        db.session.flush()
        password = hash_password(PASSWORD)
        staff = []
        for n in range(100):  # the same offices and staff with and without history
            office = offices[0] if n < 20 else offices[1 + n % 10]
            service = services[0] if n < 20 else services[1 + n % 10]
            user = StaffUser(
                email=f"cw{n}@bench.example.org",
                name=f"Caseworker {n}",
                role=Role.CASEWORKER,
                password_hash=password,
            )
            user.offices, user.services = [office], [service]
            db.session.add(user)
            staff.append((user, office, service))
        db.session.flush()
        for user, office, _ in staff:
            for weekday in range(5):
                for start, end in ((time(8), time(12)), (time(13), time(16))):
                    db.session.add(
                        WeeklyHours(
                            staff_id=user.id,
                            office_id=office.id,
                            weekday=weekday,
                            start_time=start,
                            end_time=end,
                        )
                    )
        db.session.flush()
        now = datetime.now(UTC)
        today = now.astimezone(BERLIN).date()
        monday = today + timedelta(days=7 - today.weekday())  # the next full week

        references: set[str] = set()

        def unique_reference() -> str:
            # 250,000 random references of 8 characters collide now and then (birthdays).
            while (reference := new_reference()) in references:
                pass
            references.add(reference)
            return reference

        def row(user, office, service, start, status, name="Bench Family"):
            return {
                "reference": unique_reference(),
                "service_id": service.id,
                "office_id": office.id,
                "staff_id": user.id,
                "starts_at": start,
                "ends_at": start + timedelta(minutes=45),
                "busy_until": start + timedelta(minutes=60),
                "status": status,
                "channel": Channel.ONLINE,
                "family_name": name,
                "email": None,
                "language": "de",
            }

        future = []
        for user, office, service in staff[:20]:
            for offset in range(weeks * 7):
                day = today + timedelta(days=offset + 1)
                if day.weekday() >= 5:
                    continue
                for at in SLOT_STARTS:
                    start = local(day, at)
                    if rng.random() < 0.3:
                        future.append(row(user, office, service, start, AppointmentStatus.BOOKED))

        db.session.execute(insert(Appointment), future)
        past = 0
        if history:
            # Five years, two appointments a working day per caseworker: 250,000 rows.
            batch = []
            first = today - timedelta(days=5 * 365)
            days = [
                first + timedelta(days=d)
                for d in range((today - first).days)
                if (first + timedelta(days=d)).weekday() < 5
            ]
            for user, office, service in staff:
                for day in days[-1250:]:
                    for at in (time(9), time(14)):
                        batch.append(
                            row(
                                user,
                                office,
                                service,
                                local(day, at),
                                AppointmentStatus.ATTENDED,
                                "",
                            )
                        )
                if len(batch) >= 20000:
                    db.session.execute(insert(Appointment), batch)
                    past += len(batch)
                    batch = []
            if batch:
                db.session.execute(insert(Appointment), batch)
                past += len(batch)
        db.session.commit()
        # Statistics for the planners, and on PostgreSQL no autovacuum left to run during the
        # measurement (250,000 fresh rows would trigger one).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(
                "VACUUM ANALYZE" if uri.startswith("postgresql") else "ANALYZE"
            )
        # The bookable times as the app sees them (holidays and closed days are not free).
        from booking.schedule.services import find_free_slots

        # One entry per free caseworker: a pooled time takes as many bookings as it has people.
        free = [
            slot.start
            for slot in find_free_slots(
                services[0], monday + timedelta(days=7), today + timedelta(days=58), now
            )
            for _ in slot.staff_ids
        ]
        return {
            "uri": uri,
            # Bookings made by the load have higher ids (remove_load_bookings).
            "last_seeded_id": db.session.scalar(sa_func.max(Appointment.id).select()),
            "service": services[0].slug,
            "monday": monday,
            "staff_email": "cw0@bench.example.org",
            "free": free,
            "future": len(future),
            "past": past,
        }


# Servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(name: str, target: str, env: dict, workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603 (our own gunicorn)
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = clock.monotonic() + 60
    while clock.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} did not start:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz" if name == "ours" else "/floor/1")
            connection.getresponse().read()
            return Server(name, port, process, log)
        except OSError:
            clock.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{name} did not answer within 60 s")


# Load


@dataclass
class Round:
    requests: int = 0
    errors: int = 0
    statuses: dict = field(default_factory=dict)
    latencies: list = field(default_factory=list)
    seconds: float = 0.0
    sample: str = ""  # the first unexpected answer, for the report

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p95_ms(self) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[int(0.95 * (len(ordered) - 1))] * 1000


def run_load(port: int, make_request, clients: int, seconds: float, expect: int) -> Round:
    """`make_request(thread_no, n)` gives (method, path, body, headers); counts answers."""
    result = Round()
    lock = threading.Lock()
    stop_at = clock.monotonic() + seconds
    started = clock.monotonic()

    def client(number: int) -> None:
        latencies, statuses, done, errors, sample, answer = [], {}, 0, 0, "", b""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while clock.monotonic() < stop_at:
            request = make_request(number, n)
            n += 1
            if request is None:
                break
            method, path, body, headers = request
            begun = clock.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            latencies.append(clock.perf_counter() - begun)
            statuses[status] = statuses.get(status, 0) + 1
            if status == expect:
                done += 1
            else:
                errors += 1
                if not sample:
                    sample = f"{status} {answer[:200]!r}" if status else "connection failed"
        connection.close()
        with lock:
            result.requests += done
            result.errors += errors
            result.latencies.extend(latencies)
            result.sample = result.sample or sample
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = clock.monotonic() - started
    return result


def fetch(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body, dict(response.getheaders())


def login_cookie(port: int, email: str) -> str:
    """A staff session cookie: the login form with its CSRF token, as a browser does it."""
    _, body, headers = fetch(port, "/login")
    cookie = headers.get("Set-Cookie", "").split(";")[0]
    token = body.decode().split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        "/login",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"bench login failed: {response.status}")
    return "; ".join(c.split(";")[0] for c in response.msg.get_all("Set-Cookie") or [])


# Scenarios


def scenarios(data: dict, history: bool) -> list[dict]:
    monday = data["monday"]
    week_to = monday + timedelta(days=6)
    eight_to = monday + timedelta(days=8 * 7 - 1)
    service = data["service"]
    suffix = " (history)" if history else ""
    chosen = [
        {
            "name": "public slot page, one week" + suffix,
            "path": f"/book/{service}?week={monday.isoformat()}",
        },
        {
            "name": "GET /api/v1/slots, one week" + suffix,
            "path": f"/api/v1/slots?service={service}&from={monday}&to={week_to}",
        },
        {
            "name": "caseworker week view" + suffix,
            "path": f"/calendar/me?view=week&day={monday.isoformat()}",
            "login": data["staff_email"],
        },
    ]
    if not history:
        chosen.insert(
            2,
            {
                "name": "GET /api/v1/slots, eight weeks",
                "path": f"/api/v1/slots?service={service}&from={monday}&to={eight_to}",
            },
        )
    return chosen


def get_scenario(ours: Server, floor: Server, scenario: dict, args) -> dict:
    headers = {}
    if scenario.get("login"):
        headers["Cookie"] = login_cookie(ours.port, scenario["login"])
    status, body, _ = fetch(ours.port, scenario["path"], headers)
    if status != 200:
        raise RuntimeError(f"{scenario['name']}: {status} {body[:300]!r}")
    size = len(body)

    def ours_request(number, n):
        return ("GET", scenario["path"], None, headers)

    def floor_request(number, n):
        return ("GET", f"/floor/{size}", None, {})

    return alternate(
        scenario["name"], size, ours, floor, ours_request, floor_request, args, args.clients, 200
    )


def booking_body(data: dict, start: datetime, n: int) -> bytes:
    return json.dumps(
        {
            "service": data["service"],
            "start": start.astimezone(BERLIN).isoformat(),
            "name": f"Bench Family {n}",
            "email": f"family{n}@bench.example.org",
            "language": "de",
            "privacy_consent": True,
        }
    ).encode()


def probe_booking_size(ours: Server, data: dict) -> int:
    """One real booking (the last free time): the floor answers a body of the same size."""
    connection = http.client.HTTPConnection("127.0.0.1", ours.port, timeout=30)
    start = data["free"].pop()
    connection.request(
        "POST",
        "/api/v1/bookings",
        body=booking_body(data, start, -1),
        headers={"Content-Type": "application/json"},
    )
    response = connection.getresponse()
    body = response.read()
    if response.status != 201:
        raise RuntimeError(f"bench booking failed: {response.status} {body[:300]!r}")
    return len(body)


def remove_load_bookings(uri: str, last_seeded_id: int) -> None:
    """Delete the appointments the load booked (ids above the seed's), with their edit log
    and messages, and raise every service's slots version as the app would (its caches of
    busy time then read afresh)."""
    import sqlalchemy as sa

    engine = sa.create_engine(uri)
    try:
        with engine.begin() as connection:
            for statement in (
                "DELETE FROM appointment_event WHERE appointment_id > :last",
                "DELETE FROM outbox_message WHERE appointment_id > :last",
                "DELETE FROM appointment WHERE id > :last",
            ):
                connection.execute(sa.text(statement), {"last": last_seeded_id})
            connection.execute(sa.text("UPDATE service SET slots_version = slots_version + 1"))
    finally:
        engine.dispose()


def booking_scenario(ours: Server, floor: Server, data: dict, args) -> dict:
    """8 clients book distinct free slots through the API: each slot is offered once a round.

    Every round starts from the seeded shape (30 % booked, the same free times): what the last
    round booked is removed first. At 400 bookings a second one round of 5 s books most of the
    ~2,600 free times, and later rounds found none left (their median then measured nothing)."""
    pool = list(data["free"])
    random.Random(8).shuffle(pool)  # noqa: S311
    free: list[datetime] = []

    def fresh_round() -> None:
        remove_load_bookings(data["uri"], data["last_seeded_id"])
        free[:] = pool

    lock = threading.Lock()
    counter = iter(range(10**9))

    def body_for(start: datetime) -> bytes:
        with lock:
            n = next(counter)
        return booking_body(data, start, n)

    def ours_request(number, n):
        with lock:
            if not free:
                return None
            start = free.pop()
        return ("POST", "/api/v1/bookings", body_for(start), {"Content-Type": "application/json"})

    def floor_request(number, n):
        body = body_for(datetime.now(UTC))
        return ("POST", "/floor/insert", body, {"Content-Type": "application/json"})

    return alternate(
        "POST /api/v1/bookings, distinct slots",
        data["booking_size"],
        ours,
        floor,
        ours_request,
        floor_request,
        args,
        args.booking_clients,
        201,
        before_ours=fresh_round,
    )


def alternate(
    name, size, ours, floor, ours_request, floor_request, args, clients, expect, before_ours=None
) -> dict:
    rounds = {"ours": [], "floor": []}
    prepare = before_ours or (lambda: None)
    prepare()
    run_load(ours.port, ours_request, clients, min(1.0, args.seconds), expect)  # warm-up
    run_load(floor.port, floor_request, clients, min(1.0, args.seconds), expect)
    for _ in range(args.rounds):
        prepare()
        rounds["ours"].append(run_load(ours.port, ours_request, clients, args.seconds, expect))
        rounds["floor"].append(run_load(floor.port, floor_request, clients, args.seconds, expect))
    for side, measured in rounds.items():
        if any(not r.requests for r in measured):  # a dead server must not read as 0 %
            raise RuntimeError(f"{name}: {side} answered nothing in a round: {measured}")
    ours_rate = statistics.median(r.rate for r in rounds["ours"])
    floor_rate = statistics.median(r.rate for r in rounds["floor"])
    errors = sum(r.errors for r in rounds["ours"])
    statuses = {}
    for r in rounds["ours"]:
        for status, count in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    line = {
        "scenario": name,
        "body_bytes": size,
        "clients": clients,
        "ours_rps": round(ours_rate, 1),
        "ours_p95_ms": round(statistics.median(r.p95_ms for r in rounds["ours"]), 1),
        "floor_rps": round(floor_rate, 1),
        "floor_p95_ms": round(statistics.median(r.p95_ms for r in rounds["floor"]), 1),
        "ratio": round(ours_rate / floor_rate, 4) if floor_rate else 0.0,
        "ours_errors": errors,
        "ours_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rounds": args.rounds,
        "ours_round_rps": [round(r.rate, 1) for r in rounds["ours"]],
        "floor_round_rps": [round(r.rate, 1) for r in rounds["floor"]],
    }
    print(
        f"  {name:<45} ours {line['ours_rps']:>8.1f} req/s p95 {line['ours_p95_ms']:>7.1f} ms"
        f" | floor {line['floor_rps']:>8.1f} req/s | {100 * line['ratio']:5.1f} %"
        + (f" | {errors} unexpected answers {line['ours_statuses']}" if errors else "")
        + "".join(f"\n    e.g. {r.sample}" for r in rounds["ours"][:1] if r.sample),
        flush=True,
    )
    return line


# Engines


def sqlite_database(workdir: Path) -> tuple[str, callable]:
    path = workdir / "bench.sqlite"
    return f"sqlite:///{path}", lambda: None


def postgres_database() -> tuple[str, callable]:
    import sqlalchemy as sa

    name = f"bench_{os.getpid()}_{random.randrange(10**6)}"  # noqa: S311
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return f"{base}/{name}", drop


def run_engine(engine: str, history: bool, args) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{engine}-"))
    uri, drop = sqlite_database(workdir) if engine == "sqlite" else postgres_database()
    servers = []
    try:
        begun = clock.monotonic()
        data = seed(uri, history)
        print(
            f"== {engine}{' with history' if history else ''}: seeded {data['future']} future and"
            f" {data['past']} past appointments in {clock.monotonic() - begun:.0f} s",
            flush=True,
        )
        env = {
            "BOOKING_ENVIRONMENT": "production",
            "BOOKING_SECRET_KEY": "bench-" + "x" * 40,
            "BOOKING_PUBLIC_BASE_URL": "https://bench.example.org",
            "BOOKING_TRUSTED_HOSTS": "127.0.0.1",
            "BOOKING_SQLALCHEMY_DATABASE_URI": uri,
            # 16 clients from one address would only measure the rate limiter.
            "BOOKING_RATELIMIT_ENABLED": "false",
            "BOOKING_SESSION_COOKIE_SECURE": "false",
            "BENCH_FLOOR_DATABASE_URI": uri,
        }
        ours = start_server("ours", "wsgi:app", env, workdir)
        servers.append(ours)
        data["booking_size"] = probe_booking_size(ours, data)
        env["BENCH_FLOOR_INSERT_SIZE"] = str(data["booking_size"])
        floor = start_server("floor", "bench.floor:app", env, workdir)
        servers.append(floor)
        with_engine = []
        for scenario in scenarios(data, history):
            if args.only in scenario["name"]:
                with_engine.append(get_scenario(ours, floor, scenario, args))
        if not history and args.only in "POST /api/v1/bookings, distinct slots":
            with_engine.append(booking_scenario(ours, floor, data, args))
        for line in with_engine:
            line["engine"] = engine
            line["history"] = history
        return with_engine
    finally:
        for server in servers:
            server.stop()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--booking-clients", type=int, default=8)
    parser.add_argument("--no-history", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="2 s in all per scenario, no file")
    parser.add_argument(
        "--only", default="", help="only scenarios whose name holds this text (e.g. POST)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds = 0.5, 1
    lines = []
    for engine in args.engines.split(","):
        lines += run_engine(engine, False, args)
        if not args.no_history and not args.smoke:
            lines += run_engine(engine, True, args)
    if not args.smoke:
        write_results(lines, args)


def write_results(lines: list[dict], args) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = subprocess.run(  # noqa: S603
        [str(BIN / "pip"), "freeze"], capture_output=True, text=True, check=False
    ).stdout
    pick = {p.split("==")[0].lower(): p for p in versions.split()}
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, "
        + ", ".join(pick.get(n, n) for n in ("flask", "sqlalchemy", "gunicorn", "psycopg"))
    )
    report = [
        f"# HTTP benchmark, {stamp}",
        "",
        f"{machine}; gunicorn 2 sync workers; {args.clients} clients (bookings: "
        f"{args.booking_clients}); {args.rounds} alternating rounds of {args.seconds:g} s;"
        " medians.",
        "",
        "| engine | scenario | body | ours req/s | ours p95 ms | floor req/s | ours/floor |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for line in lines:
        report.append(
            f"| {line['engine']} | {line['scenario']} | {line['body_bytes']} | {line['ours_rps']}"
            f" | {line['ours_p95_ms']} | {line['floor_rps']} | {100 * line['ratio']:.1f} % |"
        )
    for engine in {line["engine"] for line in lines}:
        plain = {line["scenario"]: line for line in lines if line["engine"] == engine}
        for name, line in plain.items():
            if name.endswith(" (history)"):
                base = plain.get(name.removesuffix(" (history)"))
                if base and line["ours_rps"]:
                    cost = base["ours_rps"] / line["ours_rps"]
                    report.append(f"\n{engine}: {name}: costs {cost:.2f}× the run without history")
    (RESULTS / "http-latest.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    (RESULTS / "http-latest.json").write_text(json.dumps(lines, indent=2), encoding="utf-8")
    print("\n".join(report))


if __name__ == "__main__":
    main()
