"""Benchmark of the slot engine: one service pooled over N caseworkers for W weeks.

Each caseworker works Mon-Fri 08:00-12:00 and 13:00-16:00 (Europe/Berlin); the service takes
45 minutes plus a 15-minute buffer; about 30 % of the grid is booked. Run: `make bench`.
Prints the best of several runs per case (one core, no database).
"""

import gc
import platform
import random
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from booking.schedule.engine import (
    BERLIN,
    BookingRules,
    Busy,
    EngineStats,
    HoursRule,
    free_slots,
)

RULES = BookingRules(minutes=45, buffer_minutes=15, min_notice_hours=0, horizon_days=400)
FIRST_DAY = date(2027, 3, 1)  # includes the spring daylight-saving change for longer runs
NOW = datetime(2027, 2, 28, 12, tzinfo=UTC)
RANGES = [(time(8), time(12)), (time(13), time(16))]
BOOKED_SHARE = 0.30
REPEATS = 25


def build_case(caseworkers: int, weeks: int, seed: int = 1):
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    hours = [
        HoursRule(staff_id, weekday, start, end)
        for staff_id in range(1, caseworkers + 1)
        for weekday in range(5)
        for start, end in RANGES
    ]
    last_day = FIRST_DAY + timedelta(weeks=weeks) - timedelta(days=1)
    grid = free_slots(RULES, FIRST_DAY, last_day, hours, [], [], NOW)
    busy = []
    for slot in grid:
        for staff_id in slot.staff_ids:
            if rng.random() < BOOKED_SHARE:
                busy.append(Busy(staff_id, slot.start, slot.end + timedelta(minutes=15)))
    return hours, busy, last_day


def run_case(caseworkers: int, weeks: int) -> dict:
    hours, busy, last_day = build_case(caseworkers, weeks)
    best = float("inf")
    stats = EngineStats()
    gc.disable()  # time the engine, not the collector's whims
    try:
        for _ in range(REPEATS):
            stats = EngineStats()
            started = clock.perf_counter()
            free_slots(RULES, FIRST_DAY, last_day, hours, busy, [], NOW, BERLIN, stats)
            best = min(best, clock.perf_counter() - started)
    finally:
        gc.enable()
    return {
        "caseworkers": caseworkers,
        "weeks": weeks,
        "candidates": stats.candidates,
        "booked": len(busy),
        "pooled_free": stats.free,
        "total_ms": best * 1000,
        "us_per_candidate": best * 1e6 / stats.candidates,
    }


def main() -> None:
    print(
        f"# slot engine benchmark, {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}"
    )
    print(f"# {platform.machine()}, {platform.processor() or 'cpu'}; best of {REPEATS} runs")
    header = f"{'caseworkers':>11} {'weeks':>5} {'candidates':>10} {'booked':>7} "
    header += f"{'free starts':>11} {'total ms':>9} {'µs/cand.':>8}"
    print(header)
    for caseworkers in (1, 5, 20, 50):
        for weeks in (1, 4, 8, 26):
            r = run_case(caseworkers, weeks)
            print(
                f"{r['caseworkers']:>11} {r['weeks']:>5} {r['candidates']:>10} {r['booked']:>7} "
                f"{r['pooled_free']:>11} {r['total_ms']:>9.2f} {r['us_per_candidate']:>8.2f}"
            )


if __name__ == "__main__":
    main()
