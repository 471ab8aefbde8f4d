"""The slot engine alone: grid, pooling, notice, horizon, holidays and daylight saving."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from booking.appointments.booking import (
    NotASlot,
    SlotTaken,
    TooLate,
    book_appointment,
    check_family_details,
    move_appointment,
    restore_appointment,
)
from booking.appointments.models import AppointmentStatus
from booking.extensions import db
from booking.schedule.engine import (
    BookingRules,
    Busy,
    ConsultationRule,
    EngineStats,
    HoursRule,
    choose_caseworker,
    consultation_occurrences,
    free_slots,
    slot_at,
)
from booking.schedule.holidays import public_holidays, yearly_closed_days
from booking.schedule.models import Absence, AbsenceKind, Closure
from booking.schedule.services import find_free_slots, local_day_bounds, qualified_caseworkers

BERLIN = ZoneInfo("Europe/Berlin")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def local_times(slots) -> list[str]:
    return [slot.start.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %z") for slot in slots]


RULES = BookingRules(minutes=45, buffer_minutes=15, min_notice_hours=24, horizon_days=60)
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday


def test_grid_starts_at_range_start_and_steps_by_duration_plus_buffer():
    hours = [HoursRule(1, WED, time(9), time(12))]
    slots = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, [], [], NOW)
    assert local_times(slots) == [
        "2027-03-03 09:00 +0100",
        "2027-03-03 10:00 +0100",
        "2027-03-03 11:00 +0100",
    ]
    assert all(slot.end - slot.start == timedelta(minutes=45) for slot in slots)
    assert all(slot.start.tzinfo == UTC for slot in slots)


def test_slot_with_buffer_must_end_inside_the_range():
    # 09:00-11:50 holds 09:00 and 10:00 (ends 11:00 with buffer); 10:50 + 60 min would not fit.
    hours = [HoursRule(1, WED, time(9), time(11, 50))]
    slots = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, [], [], NOW)
    assert local_times(slots) == ["2027-03-03 09:00 +0100", "2027-03-03 10:00 +0100"]


def test_shorter_step_gives_overlapping_candidates():
    rules = BookingRules(minutes=30, buffer_minutes=0, step_minutes=15, min_notice_hours=0)
    hours = [HoursRule(1, WED, time(9), time(10))]
    slots = free_slots(rules, date(2027, 3, 3), date(2027, 3, 3), hours, [], [], NOW)
    assert [s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots] == [
        "09:00",
        "09:15",
        "09:30",
    ]


def test_several_ranges_a_day_and_validity_dates():
    hours = [
        HoursRule(1, WED, time(9), time(10)),
        HoursRule(1, WED, time(14), time(15)),
        HoursRule(1, WED, time(16), time(17), valid_from=date(2027, 3, 10)),
    ]
    first = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, [], [], NOW)
    later = free_slots(RULES, date(2027, 3, 10), date(2027, 3, 10), hours, [], [], NOW)
    assert len(first) == 2 and len(later) == 3


def test_pooled_slots_appear_once_with_every_free_caseworker():
    hours = [HoursRule(1, WED, time(9), time(11)), HoursRule(2, WED, time(9), time(11))]
    busy = [Busy(2, local(2027, 3, 3, 10), local(2027, 3, 3, 11))]
    slots = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, busy, [], NOW)
    assert [(s.start.astimezone(BERLIN).hour, s.staff_ids) for s in slots] == [
        (9, (1, 2)),
        (10, (1,)),
    ]


def test_appointments_absences_and_everyone_busy_block_slots():
    hours = [HoursRule(1, WED, time(9), time(13))]
    busy = [
        Busy(1, local(2027, 3, 3, 9, 30), local(2027, 3, 3, 9, 45)),  # overlaps the 09:00 slot
        Busy(None, local(2027, 3, 3, 11), local(2027, 3, 3, 11, 1)),  # part-day closure
    ]
    slots = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, busy, [], NOW)
    assert [s.start.astimezone(BERLIN).hour for s in slots] == [10, 12]


def test_busy_touching_the_edges_does_not_block():
    hours = [HoursRule(1, WED, time(9), time(11))]
    busy = [
        Busy(1, local(2027, 3, 3, 8), local(2027, 3, 3, 9)),
        Busy(1, local(2027, 3, 3, 11), local(2027, 3, 3, 12)),
    ]
    slots = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, busy, [], NOW)
    assert len(slots) == 2


def test_closed_days_have_no_slots():
    hours = [HoursRule(1, WED, time(9), time(12))]
    slots = free_slots(
        RULES, date(2027, 3, 3), date(2027, 3, 10), hours, [], [date(2027, 3, 3)], NOW
    )
    assert {s.start.astimezone(BERLIN).date() for s in slots} == {date(2027, 3, 10)}


def test_minimum_notice_edge():
    hours = [HoursRule(1, TUE, time(9), time(12))]
    rules = BookingRules(minutes=45, buffer_minutes=15, min_notice_hours=24)
    # Exactly 24 h before 10:00 the 10:00 slot is bookable; one second later it is not.
    at_edge = local(2027, 3, 1, 10, 0)
    after_edge = at_edge + timedelta(seconds=1)
    day = date(2027, 3, 2)
    assert local_times(free_slots(rules, day, day, hours, [], [], at_edge))[0].startswith(
        "2027-03-02 10:00"
    )
    assert local_times(free_slots(rules, day, day, hours, [], [], after_edge))[0].startswith(
        "2027-03-02 11:00"
    )


def test_horizon_edge():
    hours = [HoursRule(1, day, time(9), time(10)) for day in range(7)]
    rules = BookingRules(minutes=45, min_notice_hours=0, horizon_days=14)
    now = local(2027, 3, 1, 9, 0)
    slots = free_slots(rules, date(2027, 3, 1), date(2027, 4, 30), hours, [], [], now)
    assert slots[-1].start == local(2027, 3, 15, 9, 0)  # exactly 14 days ahead is still in
    later = free_slots(
        rules, date(2027, 3, 1), date(2027, 4, 30), hours, [], [], now + timedelta(seconds=1)
    )
    assert later[-1].start == local(2027, 3, 15, 9, 0)
    assert free_slots(rules, date(2027, 3, 16), date(2027, 3, 20), hours, [], [], now) == []


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), [], [], [], datetime(2027, 3, 1))


# Daylight saving: 28 March 2027 (02:00 -> 03:00) and 31 October 2027 (03:00 -> 02:00).


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2027, 3, 22), date(2027, 4, 2)), (date(2027, 10, 25), date(2027, 11, 5))],
)
def test_nine_oclock_stays_nine_oclock_across_the_change(first, last):
    hours = [HoursRule(1, day, time(9), time(10)) for day in range(7)]
    now = datetime.combine(first, time(0), tzinfo=BERLIN) - timedelta(days=2)
    slots = free_slots(RULES, first, last, hours, [], [], now)
    assert len(slots) == (last - first).days + 1
    assert {s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots} == {"09:00"}
    offsets = {s.start.astimezone(BERLIN).utcoffset() for s in slots}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


def test_rule_at_0230_on_the_spring_forward_day():
    # 02:30 does not exist on 28 March 2027: the range starts at the first real instant.
    rules = BookingRules(minutes=30, min_notice_hours=0)
    hours = [HoursRule(1, SUN, time(2, 30), time(4, 0))]
    slots = free_slots(rules, date(2027, 3, 28), date(2027, 3, 28), hours, [], [], NOW)
    starts = [s.start for s in slots]
    assert len(starts) == len(set(starts))
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
    assert [s.start.astimezone(BERLIN).strftime("%H:%M %z") for s in slots] == ["03:30 +0200"]


def test_rule_at_0230_on_the_fall_back_day():
    # 02:30 happens twice on 31 October 2027: one series of slots, none twice, none overlapping.
    rules = BookingRules(minutes=30, min_notice_hours=0, horizon_days=365)
    hours = [HoursRule(1, SUN, time(2, 30), time(3, 30))]
    slots = free_slots(rules, date(2027, 10, 31), date(2027, 10, 31), hours, [], [], NOW)
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    for earlier, later in pairwise(slots):
        assert later.start >= earlier.end
    assert [s.start.astimezone(BERLIN).strftime("%H:%M %z") for s in slots] == [
        "02:30 +0200",
        "02:00 +0100",  # the repeated hour: real time goes on, labels repeat
        "02:30 +0100",
        "03:00 +0100",
    ]


def test_corpus_christi_is_a_holiday_in_nrw():
    holidays = public_holidays(date(2027, 5, 1), date(2027, 5, 31))
    assert holidays[date(2027, 5, 27)] == "Fronleichnam"
    hours = [HoursRule(1, THU, time(9), time(12))]
    now = local(2027, 5, 1, 8)
    slots = free_slots(RULES, date(2027, 5, 20), date(2027, 6, 3), hours, [], holidays, now)
    days = {s.start.astimezone(BERLIN).date() for s in slots}
    assert days == {date(2027, 5, 20), date(2027, 6, 3)}


def test_corpus_christi_is_not_a_holiday_everywhere():
    assert date(2027, 5, 27) not in public_holidays(date(2027, 5, 1), date(2027, 5, 31), "DE", "BE")


def test_yearly_closed_days():
    assert yearly_closed_days(date(2026, 12, 1), date(2027, 12, 25), ["12-24", "12-31"]) == [
        date(2026, 12, 24),
        date(2026, 12, 31),
        date(2027, 12, 24),
    ]


def test_choose_caseworker_spreads_the_work():
    assert choose_caseworker([3, 1, 2], {1: 2, 2: 0, 3: 0}) == 2
    assert choose_caseworker([3, 1], {}) == 1


def test_engine_ignores_the_system_clock():
    hours = [HoursRule(1, WED, time(9), time(12))]
    with freeze_time("2030-01-01"):
        slots = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, [], [], NOW)
    assert len(slots) == 3


def test_stats_count_candidates():
    stats = EngineStats()
    hours = [HoursRule(1, WED, time(9), time(12))]
    busy = [Busy(1, local(2027, 3, 3, 9), local(2027, 3, 3, 10))]
    free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, busy, [], NOW, stats=stats)
    assert (stats.candidates, stats.free) == (3, 2)


# Property tests


def intervals_overlap(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def scenarios(draw):
    staff_ids = list(range(1, draw(st.integers(1, 4)) + 1))
    hours = []
    for staff_id in staff_ids:
        for _ in range(draw(st.integers(0, 4))):
            start = draw(clock)
            minutes = draw(st.integers(30, 8 * 60))
            end_minutes = min(start.hour * 60 + start.minute + minutes, 23 * 60 + 59)
            end = time(end_minutes // 60, end_minutes % 60)
            if end > start:
                hours.append(HoursRule(staff_id, draw(st.integers(0, 6)), start, end))
    base = datetime(2027, 3, 22, tzinfo=BERLIN)  # the spring-forward week
    busy = []
    for _ in range(draw(st.integers(0, 12))):
        start = base + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
        end = start + timedelta(minutes=draw(st.integers(1, 6 * 60)))
        busy.append(Busy(draw(st.sampled_from([None, *staff_ids])), start, end))
    closed = draw(st.lists(st.dates(date(2027, 3, 22), date(2027, 4, 4)), max_size=3))
    rules = BookingRules(
        minutes=draw(st.sampled_from([15, 30, 45, 60])),
        buffer_minutes=draw(st.sampled_from([0, 5, 15])),
        step_minutes=draw(st.sampled_from([None, 15, 30])),
        min_notice_hours=draw(st.sampled_from([0, 12, 24])),
        horizon_days=draw(st.sampled_from([3, 7, 60])),
    )
    now = base + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    return rules, hours, busy, closed, now


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_property_slots_respect_every_rule(scenario):
    rules, hours, busy, closed, now = scenario
    first, last = date(2027, 3, 22), date(2027, 4, 4)
    slots = free_slots(rules, first, last, hours, busy, closed, now)
    occupy = timedelta(minutes=rules.minutes + rules.buffer_minutes)
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    for slot in slots:
        local_start = slot.start.astimezone(BERLIN)
        assert local_start.date() not in closed
        assert slot.start >= now + timedelta(hours=rules.min_notice_hours)
        assert slot.start <= now + timedelta(days=rules.horizon_days)
        assert slot.staff_ids
        for staff_id in slot.staff_ids:
            # Inside one of the caseworker's ranges that day, buffer included.
            inside = False
            for rule in hours:
                if rule.staff_id != staff_id or not rule.applies_on(local_start.date()):
                    continue
                range_start = datetime.combine(local_start.date(), rule.start, tzinfo=BERLIN)
                range_end = datetime.combine(local_start.date(), rule.end, tzinfo=BERLIN)
                if range_start <= slot.start and slot.start + occupy <= range_end:
                    inside = True
            assert inside
            for item in busy:
                if item.staff_id in (None, staff_id):
                    assert not intervals_overlap(
                        slot.start, slot.start + occupy, item.start, item.end
                    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_property_one_time_answers_as_the_whole_day(scenario, data):
    """slot_at (a booking's check of one time) agrees with free_slots at every five minutes of
    a day and at every grid time and a second either side of it (steps of 20, 35, 65 minutes
    fall between quarter hours): None off the grid, the free caseworkers on it, () when all
    are busy there."""
    rules, hours, busy, closed, now = scenario
    day = data.draw(st.dates(date(2027, 3, 22), date(2027, 4, 4)))
    free = {s.start_ts: s.staff_ids for s in free_slots(rules, day, day, hours, busy, closed, now)}
    grid = {s.start_ts for s in free_slots(rules, day, day, hours, [], closed, now)}
    start = datetime.combine(day, time(), tzinfo=BERLIN).astimezone(UTC)
    probes = {int((start + timedelta(minutes=5 * n)).timestamp()) for n in range(25 * 12)}
    probes |= {ts + delta for ts in grid for delta in (-1, 0, 1)}
    for ts in sorted(probes):
        if datetime.fromtimestamp(ts, BERLIN).date() != day:
            continue  # 25 hours cover the autumn day; the rest is the next day's
        expected = free.get(ts, () if ts in grid else None)
        assert slot_at(rules, ts, hours, busy, closed, now) == expected, ts


def test_one_time_on_the_spring_forward_day():
    """03:00 on 2027-03-28 is one hour after 01:00 in real time: the grid steps across it."""
    hours = [HoursRule(1, 6, time(1), time(5))]  # a Sunday
    rules = BookingRules(minutes=60, min_notice_hours=0)
    now = datetime(2027, 3, 27, tzinfo=BERLIN)
    at = int(datetime(2027, 3, 28, 3, tzinfo=BERLIN).timestamp())
    assert slot_at(rules, at, hours, [], [], now) == (1,)
    assert slot_at(rules, at + 1800, hours, [], [], now) is None
    busy = [
        Busy(
            1,
            datetime(2027, 3, 28, 3, 30, tzinfo=BERLIN),
            datetime(2027, 3, 28, 3, 40, tzinfo=BERLIN),
        )
    ]
    assert slot_at(rules, at, hours, busy, [], now) == ()


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_property_no_free_slot_is_missed(scenario):
    """Every grid point that passes all rules is offered (the engine is not over-cautious)."""
    rules, hours, busy, closed, now = scenario
    first, last = date(2027, 3, 22), date(2027, 4, 4)
    offered = {
        (s.start, sid)
        for s in free_slots(rules, first, last, hours, busy, closed, now)
        for sid in s.staff_ids
    }
    occupy = timedelta(minutes=rules.minutes + rules.buffer_minutes)
    step = timedelta(seconds=rules.step_seconds)
    day = first
    while day <= last:
        for rule in hours:
            if day in closed or not rule.applies_on(day):
                continue
            start = datetime.combine(day, rule.start, tzinfo=BERLIN).astimezone(UTC)
            end = datetime.combine(day, rule.end, tzinfo=BERLIN).astimezone(UTC)
            slot = start
            while slot + occupy <= end:
                ok = (
                    slot >= now + timedelta(hours=rules.min_notice_hours)
                    and slot <= now + timedelta(days=rules.horizon_days)
                    and not any(
                        item.staff_id in (None, rule.staff_id)
                        and intervals_overlap(slot, slot + occupy, item.start, item.end)
                        for item in busy
                    )
                )
                assert ((slot, rule.staff_id) in offered) == ok
                slot += step
        day += timedelta(days=1)


def test_consultation_hours_cancelled_on_holiday_closure_and_without_staff():
    rules = [ConsultationRule(THU, time(14), time(16), staff_ids=(1, 2))]
    holidays = public_holidays(date(2027, 5, 1), date(2027, 6, 30))
    closures = {date(2027, 6, 10): "Betriebsausflug"}
    busy = [
        Busy(1, local(2027, 6, 17, 0), local(2027, 6, 18, 0)),
        Busy(2, local(2027, 6, 17, 15), local(2027, 6, 17, 15, 30)),
    ]
    result = consultation_occurrences(
        rules, date(2027, 5, 27), date(2027, 6, 24), holidays, closures, busy
    )
    summary = [
        (o.start.astimezone(BERLIN).strftime("%d.%m. %H:%M"), o.status, o.reason, o.staff_ids)
        for o in result
    ]
    assert summary == [
        ("27.05. 14:00", "cancelled", "holiday", ()),
        ("03.06. 14:00", "scheduled", None, (1, 2)),
        ("10.06. 14:00", "cancelled", "closure", ()),
        ("17.06. 14:00", "cancelled", "nobody_on_duty", ()),
        ("24.06. 14:00", "scheduled", None, (1, 2)),
    ]
    assert result[0].detail == "Fronleichnam"


def test_a_fraction_of_a_second_of_busy_time_still_blocks_the_slot():
    hours = [HoursRule(1, WED, time(9), time(12))]
    # An appointment held until a fraction past 10:00 overlaps the 10:00 slot.
    busy = [Busy(1, local(2027, 3, 3, 9), local(2027, 3, 3, 10, 0, 0, 500_000))]
    slots = free_slots(RULES, date(2027, 3, 3), date(2027, 3, 3), hours, busy, [], NOW)
    assert [s.start.astimezone(BERLIN).hour for s in slots] == [11]


# The engine on the database: it refuses booked times, absences and closed days by itself,
# before the database constraints ever see an insert.

DB_NOW = datetime(2027, 3, 1, 7, tzinfo=UTC)
THURSDAY = date(2027, 3, 4)
TEN = local(2027, 3, 4, 10)


def a_family(n: int = 1):
    return check_family_details(f"Familie {n}", f"f{n}@example.org", None, "de", False, "")


def free_hours(service, day=THURSDAY, now=DB_NOW) -> list[int]:
    return [s.start.astimezone(BERLIN).hour for s in find_free_slots(service, day, day, now)]


@pytest.fixture
def no_insert(monkeypatch):
    """Any attempt to write an appointment fails the test: the engine must refuse first."""

    def refuse(*args, **kwargs):
        raise AssertionError("the engine offered a time it should have refused")

    monkeypatch.setattr("booking.appointments.booking._insert_first_free", refuse)


def add_absence(service, kind, start, end):
    staff = service_staff(service)
    db.session.add(Absence(staff_id=staff.id, kind=kind, starts_at=start, ends_at=end))
    db.session.commit()


def service_staff(service):
    [staff] = qualified_caseworkers(service)
    return staff


def test_engine_refuses_a_booked_time(app, bookable_service, monkeypatch):
    assert free_hours(bookable_service) == [9, 10, 11]
    book_appointment(bookable_service, TEN, a_family(1), DB_NOW)
    db.session.commit()
    assert free_hours(bookable_service) == [9, 11]
    monkeypatch.setattr(
        "booking.appointments.booking._insert_first_free",
        lambda *args: pytest.fail("the engine offered a booked time"),
    )
    with pytest.raises(SlotTaken):
        book_appointment(bookable_service, TEN, a_family(2), DB_NOW)


@pytest.mark.parametrize("kind", ["illness", "vacation", "training", "blocked"])
def test_engine_refuses_absences_and_blocked_time(app, bookable_service, no_insert, kind):
    add_absence(bookable_service, AbsenceKind(kind), TEN, local(2027, 3, 4, 10, 30))
    assert free_hours(bookable_service) == [9, 11]
    with pytest.raises(SlotTaken):
        book_appointment(bookable_service, TEN, a_family(), DB_NOW)


def test_engine_refuses_closures_and_holidays(app, bookable_service, no_insert):
    db.session.add(
        Closure(
            office_id=bookable_service.office_id,
            first_day=THURSDAY,
            last_day=THURSDAY,
            reason="Umzug",
        )
    )
    db.session.commit()
    assert free_hours(bookable_service) == []
    with pytest.raises(NotASlot):
        book_appointment(bookable_service, TEN, a_family(), DB_NOW)
    # Ascension Day 2027 is a Thursday and a public holiday in NRW.
    may_now = datetime(2027, 5, 1, 7, tzinfo=UTC)
    assert free_hours(bookable_service, date(2027, 5, 6), may_now) == []
    with pytest.raises(NotASlot):
        book_appointment(bookable_service, local(2027, 5, 6, 10), a_family(), may_now)


@pytest.mark.parametrize(
    "start",
    [
        TEN + timedelta(microseconds=1),
        TEN + timedelta(milliseconds=500),
        TEN + timedelta(seconds=1),
        TEN - timedelta(microseconds=1),
    ],
)
def test_a_start_must_be_exactly_a_slot_time(app, bookable_service, no_insert, start):
    with pytest.raises(NotASlot):
        book_appointment(bookable_service, start, a_family(), DB_NOW)


def test_restore_refuses_an_absence_and_a_closure(app, bookable_service):
    """Sick leave put in after the cancellation: the appointment stays cancelled."""
    staff = service_staff(bookable_service)
    booking = book_appointment(bookable_service, TEN, a_family(), DB_NOW)
    appointment = booking.appointment
    appointment.cancel("test", DB_NOW)
    db.session.commit()
    add_absence(bookable_service, AbsenceKind.ILLNESS, *local_day_bounds(THURSDAY, THURSDAY))
    with pytest.raises(SlotTaken, match="abwesend"):
        restore_appointment(appointment, staff, DB_NOW)
    db.session.rollback()
    assert appointment.status == AppointmentStatus.CANCELLED
    db.session.execute(delete(Absence))
    db.session.add(
        Closure(
            office_id=bookable_service.office_id,
            first_day=THURSDAY,
            last_day=THURSDAY,
            reason="Umzug",
        )
    )
    db.session.commit()
    with pytest.raises(NotASlot):
        restore_appointment(appointment, staff, DB_NOW)
    db.session.rollback()
    db.session.execute(delete(Closure))
    db.session.commit()
    restore_appointment(appointment, staff, DB_NOW)  # free again: fine
    db.session.commit()
    assert appointment.status == AppointmentStatus.BOOKED


def test_restore_says_when_a_waiting_list_family_holds_the_time(app, bookable_service):
    """Cancelled, then offered to the waiting list: staff read why it cannot come back."""
    from booking.waitlist.models import OfferState, WaitlistEntry, WaitlistOffer

    staff = service_staff(bookable_service)
    appointment = book_appointment(bookable_service, TEN, a_family(), DB_NOW).appointment
    appointment.cancel("test", DB_NOW)
    entry = WaitlistEntry(
        service_id=bookable_service.id,
        office_id=bookable_service.office_id,
        family_name="Familie Wartend",
        email="wartend@example.org",
    )
    db.session.add(entry)
    db.session.flush()
    db.session.add(
        WaitlistOffer(
            entry_id=entry.id,
            service_id=bookable_service.id,
            staff_id=appointment.staff_id,
            starts_at=appointment.starts_at,
            busy_until=appointment.busy_until,
            offered_at=DB_NOW,
            hold_until=DB_NOW + timedelta(hours=2),
            state=OfferState.OFFERED,
        )
    )
    db.session.commit()
    with pytest.raises(SlotTaken, match="Warteliste"):
        restore_appointment(appointment, staff, DB_NOW)
    db.session.rollback()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_restore_refuses_a_time_taken_by_another_before_the_database_does(
    app, bookable_service, monkeypatch
):

    staff = service_staff(bookable_service)
    first = book_appointment(bookable_service, TEN, a_family(1), DB_NOW).appointment
    first.cancel("test", DB_NOW)
    db.session.commit()
    # Another family holds the time now; the engine sees it before any write.
    book_appointment(bookable_service, TEN, a_family(2), DB_NOW)
    db.session.commit()
    monkeypatch.setattr(
        db.session, "begin_nested", lambda: pytest.fail("restore reached the database check")
    )
    with pytest.raises(SlotTaken, match="anderweitig gebucht"):
        restore_appointment(first, staff, DB_NOW)


def test_staff_move_refuses_absences_but_may_pass_the_notice(app, bookable_service):
    staff = service_staff(bookable_service)
    appointment = book_appointment(bookable_service, TEN, a_family(), DB_NOW).appointment
    db.session.commit()
    add_absence(bookable_service, AbsenceKind.BLOCKED, local(2027, 3, 4, 11), local(2027, 3, 4, 12))
    eleven = local(2027, 3, 4, 11)
    with pytest.raises(SlotTaken):
        move_appointment(appointment, eleven, DB_NOW, actor=staff)
    db.session.rollback()
    # Two hours before: too late for the family, fine for staff (to a free time).
    late = local(2027, 3, 4, 7)
    with pytest.raises(TooLate):
        move_appointment(appointment, local(2027, 3, 4, 9), late)
    db.session.rollback()
    moved = move_appointment(appointment, local(2027, 3, 4, 9), late, actor=staff)
    db.session.commit()
    assert moved.appointment.starts_at == local(2027, 3, 4, 9)


def test_one_time_beside_busy_time_is_free():
    """Busy time that ends as the slot begins, or begins as its buffer ends, leaves it free."""
    hours = [HoursRule(1, WED, time(9), time(12))]
    at = local(2027, 3, 3, 10)
    ts = int(at.timestamp())
    before = Busy(1, local(2027, 3, 3, 9), at)
    after = Busy(
        1, at + timedelta(minutes=RULES.minutes + RULES.buffer_minutes), local(2027, 3, 3, 12)
    )
    assert slot_at(RULES, ts, hours, [before, after], [], NOW) == (1,)
    overlapping = Busy(1, at + timedelta(minutes=RULES.minutes - 1), local(2027, 3, 3, 12))
    assert slot_at(RULES, ts, hours, [overlapping], [], NOW) == ()
