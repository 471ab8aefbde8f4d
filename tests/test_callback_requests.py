"""Callback requests (messages in German, the default): details, due times from the office,
every transition and the illegal ones, attempts, the duplicate check, access across offices,
the unreachable message, purge."""

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.appointments.models import Appointment
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.callbacks.due import BERLIN
from booking.callbacks.models import (
    CallbackError,
    CallbackOutcome,
    CallbackRequest,
    CallbackStatus,
)
from booking.callbacks.services import (
    InvalidCallbackDetails,
    add_to_request,
    assign_request,
    can_see_request,
    check_caller_details,
    claim_request,
    close_request,
    counts_for_offices,
    create_request,
    national_format,
    open_requests_for_phone,
    owed_by,
    purge_closed_requests,
    queue_for_office,
    record_attempt,
)
from booking.core.exceptions import NotAllowed
from booking.extensions import db
from booking.notify.models import OutboxChannel, OutboxMessage
from booking.schedule.models import Closure

# Thursday before Easter 2027.
CALL = datetime(2027, 3, 25, 10, 30, tzinfo=BERLIN)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def setting(make_office, make_service, make_staff):
    office = make_office(phone="+49 211 8993000")
    other = make_office()
    service = make_service(office)
    caseworker = make_staff(Role.CASEWORKER, offices=[office], name="K. Becker")
    colleague = make_staff(Role.CASEWORKER, offices=[office], name="M. Öztürk")
    stranger = make_staff(Role.CASEWORKER, offices=[other])
    reception = make_staff(Role.RECEPTION, offices=[office])
    admin = make_staff(Role.ADMIN)
    return {
        "office": office,
        "other": other,
        "service": service,
        "caseworker": caseworker,
        "colleague": colleague,
        "stranger": stranger,
        "reception": reception,
        "admin": admin,
    }


def new_request(setting, now=CALL, **values) -> CallbackRequest:
    details = check_caller_details(
        setting["office"],
        values.pop("name", "Familie Yılmaz"),
        values.pop("phone", "0211 1234567"),
        **values,
    )
    request = create_request(setting["office"], details, now, actor=setting["reception"])
    db.session.commit()
    return request


def test_details_are_normalised_and_the_number_stored_in_e164(setting):
    request = new_request(
        setting,
        email=" Yilmaz@Example.org ",
        service=setting["service"],
        language="TR",
        interpreter_needed=True,
        reachable=["tue-pm", "mon-am"],
        reachable_note=" after 3 ",
        voicemail_ok=True,
        note=" about school ",
    )
    assert request.phone == "+492111234567"
    assert national_format(request.phone) == "0211 1234567"
    assert request.email == "yilmaz@example.org"
    assert request.language == "tr"
    assert request.reachable_codes == ["mon-am", "tue-pm"]
    assert request.reachable_note == "after 3"
    assert request.note == "about school"
    assert request.status == CallbackStatus.NEW
    assert request.reference and len(request.reference) == 8


def test_bad_details_get_a_message_per_field(setting):
    with pytest.raises(InvalidCallbackDetails) as caught:
        check_caller_details(
            setting["office"],
            "",
            "12",
            email="not an email",
            service=None,
            language="xx-invalid",
            reachable=["sun-am"],
            note="x" * 501,
        )
    assert set(caught.value.errors) == {"name", "phone", "email", "language", "reachable", "note"}


def test_a_missing_number_is_refused(setting):
    with pytest.raises(InvalidCallbackDetails) as caught:
        check_caller_details(setting["office"], "Name", "  ")
    assert set(caught.value.errors) == {"phone"}


def test_a_topic_of_another_office_is_refused(setting, make_service):
    foreign = make_service(setting["other"])
    with pytest.raises(InvalidCallbackDetails) as caught:
        check_caller_details(setting["office"], "Name", "0211 1234567", service=foreign)
    assert set(caught.value.errors) == {"topic"}


def test_due_time_follows_the_issue_example(setting):
    request = new_request(setting)
    assert request.due_at == berlin(2027, 3, 31, 16, 0)


def test_due_time_follows_the_offices_settings_and_closures(setting):
    office = setting["office"]
    office.callback_due_days = 3
    office.callback_due_time = time(12, 0)
    db.session.add(
        Closure(
            office=office,
            first_day=berlin(2027, 3, 3).date(),
            last_day=berlin(2027, 3, 3).date(),
            reason="Betriebsausflug",
        )
    )
    db.session.commit()
    # Monday 1 March: Tue 2, (Wed 3 closed), Thu 4, Fri 5 → Friday 12:00.
    request = new_request(setting, now=berlin(2027, 3, 1, 9))
    assert request.due_at == berlin(2027, 3, 5, 12, 0)
    urgent = new_request(setting, now=berlin(2027, 3, 1, 9), phone="0211 7654321", urgent=True)
    assert urgent.due_at == berlin(2027, 3, 2, 12, 0)


def test_creating_is_logged_and_audited(setting):
    request = new_request(setting)
    assert [e.action for e in request.events] == ["created"]
    audit = db.session.scalars(select(AuditEvent.action)).all()
    assert "callback.created" in audit


# Transitions


def test_reception_assigns_to_a_caseworker_of_the_office(setting):
    request = new_request(setting)
    assign_request(request, setting["caseworker"].id, setting["reception"], CALL)
    assert request.status == CallbackStatus.ASSIGNED
    assert request.assigned_to_id == setting["caseworker"].id
    # Reassigning to a colleague is allowed.
    assign_request(request, setting["colleague"].id, setting["reception"], CALL)
    assert request.assigned_to_id == setting["colleague"].id
    assert [e.action for e in request.events] == ["created", "assigned", "assigned"]


@pytest.mark.parametrize("who", ["stranger", "reception", "admin"])
def test_assigning_to_anyone_but_a_caseworker_of_the_office_is_refused(setting, who):
    request = new_request(setting)
    with pytest.raises(CallbackError) as caught:
        assign_request(request, setting[who].id, setting["reception"], CALL)
    assert caught.value.field == "staff"
    assert request.status == CallbackStatus.NEW


def test_assigning_to_the_same_person_again_is_refused(setting):
    request = new_request(setting)
    assign_request(request, setting["caseworker"].id, setting["reception"], CALL)
    with pytest.raises(CallbackError, match=r"schon .*zugewiesen"):
        assign_request(request, setting["caseworker"].id, setting["reception"], CALL)


def test_an_inactive_caseworker_cannot_be_assigned(setting):
    setting["caseworker"].active = False
    request = new_request(setting)
    with pytest.raises(CallbackError):
        assign_request(request, setting["caseworker"].id, setting["reception"], CALL)


def test_caseworkers_claim_instead_of_assigning(setting):
    request = new_request(setting)
    with pytest.raises(NotAllowed):
        assign_request(request, setting["caseworker"].id, setting["caseworker"], CALL)
    with pytest.raises(NotAllowed):
        claim_request(request, setting["reception"], CALL)
    claim_request(request, setting["caseworker"], CALL)
    assert request.status == CallbackStatus.ASSIGNED
    assert request.assigned_to_id == setting["caseworker"].id


def test_claiming_twice_or_someone_elses_request_is_refused(setting):
    request = new_request(setting)
    claim_request(request, setting["caseworker"], CALL)
    with pytest.raises(CallbackError, match="schon Ihre"):
        claim_request(request, setting["caseworker"], CALL)
    with pytest.raises(CallbackError, match=r"schon .*zugewiesen"):
        claim_request(request, setting["colleague"], CALL)
    assert request.assigned_to_id == setting["caseworker"].id


def test_a_new_request_closes_unassigned_only_as_withdrawn(setting):
    for outcome in ("resolved", "unreachable", "appointment_booked"):
        request = new_request(setting, phone=f"0211 12345{len(outcome)}")
        with pytest.raises(CallbackError, match="zuerst zuweisen"):
            close_request(request, outcome, setting["reception"], CALL)
        assert request.status == CallbackStatus.NEW
    request = new_request(setting)
    close_request(request, "withdrawn", setting["reception"], CALL)
    assert request.status == CallbackStatus.CLOSED
    assert request.outcome == CallbackOutcome.WITHDRAWN
    assert request.closed_by_id == setting["reception"].id


def test_an_assigned_request_closes_as_resolved(setting):
    request = new_request(setting)
    claim_request(request, setting["caseworker"], CALL)
    record_attempt(request, "reached", "", setting["caseworker"], CALL)
    close_request(request, "resolved", setting["caseworker"], CALL)
    db.session.commit()
    assert request.outcome == CallbackOutcome.RESOLVED
    assert request.closed_at == CALL


def test_nothing_happens_to_a_closed_request(setting):
    request = new_request(setting)
    close_request(request, "withdrawn", setting["reception"], CALL)
    with pytest.raises(CallbackError, match="abgeschlossen"):
        assign_request(request, setting["caseworker"].id, setting["reception"], CALL)
    with pytest.raises(CallbackError, match="abgeschlossen"):
        claim_request(request, setting["caseworker"], CALL)
    with pytest.raises(CallbackError, match="abgeschlossen"):
        record_attempt(request, "no_answer", "", setting["caseworker"], CALL)
    with pytest.raises(CallbackError, match="abgeschlossen"):
        close_request(request, "withdrawn", setting["reception"], CALL)
    with pytest.raises(CallbackError, match="abgeschlossen"):
        add_to_request(request, "again", False, setting["reception"], CALL)
    assert request.outcome == CallbackOutcome.WITHDRAWN


def test_unknown_outcomes_are_refused(setting):
    request = new_request(setting)
    claim_request(request, setting["caseworker"], CALL)
    with pytest.raises(CallbackError):
        close_request(request, "lost", setting["caseworker"], CALL)
    with pytest.raises(CallbackError):
        record_attempt(request, "maybe", "", setting["caseworker"], CALL)


def test_a_caseworker_calling_a_new_request_takes_it(setting):
    request = new_request(setting)
    record_attempt(request, "no_answer", "rang 10 times", setting["caseworker"], CALL)
    assert request.status == CallbackStatus.ASSIGNED
    assert request.assigned_to_id == setting["caseworker"].id
    assert [(a.outcome.value, a.note) for a in request.attempts] == [("no_answer", "rang 10 times")]


def test_reception_may_record_an_attempt_without_taking_the_request(setting):
    request = new_request(setting)
    record_attempt(request, "wrong_number", "", setting["reception"], CALL)
    assert request.status == CallbackStatus.NEW


def fail(request, actor, *instants):
    for instant in instants:
        record_attempt(request, "no_answer", "", actor, instant)


def test_unreachable_needs_the_attempts_on_two_different_days(setting):
    request = new_request(setting, email="familie@example.org")
    worker = setting["caseworker"]
    fail(request, worker, berlin(2027, 3, 30, 9), berlin(2027, 3, 30, 11), berlin(2027, 3, 30, 15))
    with pytest.raises(CallbackError, match="zwei verschiedenen Tagen"):
        close_request(request, "unreachable", worker, berlin(2027, 3, 30, 16))
    assert request.status == CallbackStatus.ASSIGNED


def test_unreachable_needs_the_offices_number_of_failed_attempts(setting):
    request = new_request(setting)
    worker = setting["caseworker"]
    fail(request, worker, berlin(2027, 3, 30, 9), berlin(2027, 3, 31, 9))
    record_attempt(request, "reached", "call later", worker, berlin(2027, 3, 31, 10))
    with pytest.raises(CallbackError, match="3 erfolglose"):
        close_request(request, "unreachable", worker, berlin(2027, 3, 31, 16))


def test_berlin_days_count_not_utc_days(setting):
    # 23:30 and 00:30 Berlin on consecutive days are the same UTC day: two Berlin days.
    request = new_request(setting)
    worker = setting["caseworker"]
    fail(request, worker, berlin(2027, 3, 30, 23, 30), berlin(2027, 3, 31, 0, 30))
    fail(request, worker, berlin(2027, 3, 31, 1, 0))
    assert len(request.failed_attempt_days()) == 2
    close_request(request, "unreachable", worker, berlin(2027, 3, 31, 9))
    assert request.outcome == CallbackOutcome.UNREACHABLE


def unreachable(setting, **values) -> CallbackRequest:
    request = new_request(setting, **values)
    worker = setting["caseworker"]
    fail(request, worker, berlin(2027, 3, 30, 9), berlin(2027, 3, 30, 14), berlin(2027, 3, 31, 9))
    close_request(request, "unreachable", worker, berlin(2027, 3, 31, 10))
    db.session.commit()
    return request


def test_an_unreachable_caller_with_email_gets_an_email(setting):
    request = unreachable(setting, email="familie@example.org")
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.kind == "callback_unreachable"
    assert message.channel == OutboxChannel.EMAIL
    assert message.recipient == "familie@example.org"
    assert request.reference in message.body_text
    assert "0211 8993000" in message.body_text  # the office's number to call
    assert "Yılmaz" not in message.body_text


def test_an_unreachable_caller_with_a_mobile_gets_an_sms(setting):
    unreachable(setting, phone="0151 23456789", language="en")
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.channel == OutboxChannel.SMS
    assert message.recipient == "+4915123456789"
    assert "could not reach you" in message.body_text


def test_an_unreachable_caller_with_only_a_landline_gets_nothing(setting):
    request = unreachable(setting)
    assert request.outcome == CallbackOutcome.UNREACHABLE
    assert db.session.scalars(select(OutboxMessage)).all() == []


def make_appointment(setting, office, reference="APPT2345"):
    service = setting["service"] if office is setting["office"] else None
    if service is None:
        from booking.offices.models import Service

        service = Service(office=office, slug=f"s-{reference.lower()}", name="X", minutes=30)
        db.session.add(service)
    start = datetime(2027, 4, 6, 8, 0, tzinfo=UTC)
    appointment = Appointment(
        reference=reference,
        service=service,
        office=office,
        staff_id=setting["caseworker"].id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        busy_until=start + timedelta(minutes=30),
        family_name="Familie Yılmaz",
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def test_appointment_booked_links_the_appointment_of_the_office(setting):
    appointment = make_appointment(setting, setting["office"])
    request = new_request(setting)
    claim_request(request, setting["caseworker"], CALL)
    with pytest.raises(CallbackError) as caught:
        close_request(request, "appointment_booked", setting["caseworker"], CALL)
    assert caught.value.field == "appointment_reference"
    with pytest.raises(CallbackError, match="Kein Termin"):
        close_request(request, "appointment_booked", setting["caseworker"], CALL, "ZZZZZZZZ")
    close_request(request, "appointment_booked", setting["caseworker"], CALL, " appt2345 ")
    assert request.appointment_id == appointment.id
    assert request.outcome == CallbackOutcome.APPOINTMENT_BOOKED


def test_an_appointment_of_another_office_is_refused(setting):
    make_appointment(setting, setting["other"], reference="OTHR2345")
    request = new_request(setting)
    claim_request(request, setting["caseworker"], CALL)
    with pytest.raises(CallbackError, match="anderen Stelle"):
        close_request(request, "appointment_booked", setting["caseworker"], CALL, "OTHR2345")
    assert request.is_open


# Duplicates and adding to a request


def test_the_duplicate_check_finds_open_requests_with_the_number_at_the_office(setting):
    first = new_request(setting, phone="0211 1234567")
    closed = new_request(setting, phone="+49 211 1234567")
    close_request(closed, "withdrawn", setting["reception"], CALL)
    new_request(setting, phone="0211 7654321")
    found = open_requests_for_phone(setting["office"], "+492111234567")
    assert found == [first]
    assert open_requests_for_phone(setting["other"], "+492111234567") == []


def test_adding_to_a_request_notes_the_call_and_urgency_only_brings_the_due_time_forward(
    setting,
):
    request = new_request(setting)
    before = request.due_at
    add_to_request(request, "asks again", False, setting["reception"], berlin(2027, 3, 30, 9))
    assert "asks again" in request.internal_note
    assert request.due_at == before
    add_to_request(request, "", True, setting["reception"], berlin(2027, 3, 30, 9))
    assert request.urgent
    assert request.due_at == berlin(2027, 3, 31, 16)  # urgent from Tuesday: Wednesday
    assert [e.action for e in request.events][-2:] == ["called_again", "called_again"]


def test_adding_an_urgent_call_early_brings_the_due_time_forward(setting):
    request = new_request(setting, now=berlin(2027, 3, 1, 9))
    assert request.due_at == berlin(2027, 3, 3, 16)
    add_to_request(request, "", True, setting["reception"], berlin(2027, 3, 1, 10))
    assert request.due_at == berlin(2027, 3, 2, 16)


# Access and lists


def test_staff_see_requests_of_their_own_offices_only(setting):
    request = new_request(setting)
    assert can_see_request(setting["caseworker"], request)
    assert can_see_request(setting["reception"], request)
    assert can_see_request(setting["admin"], request)
    assert not can_see_request(setting["stranger"], request)
    with pytest.raises(NotAllowed):
        record_attempt(request, "no_answer", "", setting["stranger"], CALL)
    with pytest.raises(NotAllowed):
        claim_request(request, setting["stranger"], CALL)
    with pytest.raises(NotAllowed):
        close_request(request, "withdrawn", setting["stranger"], CALL)
    with pytest.raises(NotAllowed):
        add_to_request(request, "x", False, setting["stranger"], CALL)


def test_the_queue_is_sorted_by_due_time_and_filtered(setting):
    late = new_request(setting, now=berlin(2027, 3, 1, 9), phone="0211 1111111")
    urgent = new_request(setting, now=berlin(2027, 3, 2, 9), phone="0211 2222222", urgent=True)
    normal = new_request(setting, now=berlin(2027, 3, 2, 9), phone="0211 3333333")
    claim_request(normal, setting["caseworker"], CALL)
    done = new_request(setting, phone="0211 4444444")
    close_request(done, "withdrawn", setting["reception"], CALL)
    office = setting["office"]
    assert queue_for_office(office) == [late, urgent, normal]
    assert queue_for_office(office, status="new") == [late, urgent]
    assert queue_for_office(office, status="closed") == [done]
    assert queue_for_office(office, status="all") == [late, urgent, normal, done]
    assert queue_for_office(office, assignee=setting["caseworker"].id) == [normal]
    assert queue_for_office(office, assignee="none") == [late, urgent]
    now = berlin(2027, 3, 3, 17)
    assert late.is_overdue(now) and urgent.is_overdue(now) and not normal.is_overdue(now)
    counts = counts_for_offices([office.id, setting["other"].id], now)
    assert (counts[office.id].open, counts[office.id].overdue) == (3, 2)
    assert (counts[setting["other"].id].open, counts[setting["other"].id].overdue) == (0, 0)


def test_owed_today_lists_the_caseworkers_overdue_and_due_today(setting):
    old = new_request(setting, now=berlin(2027, 3, 1, 9), phone="0211 1111111")
    today = new_request(setting, now=berlin(2027, 3, 2, 9), phone="0211 2222222")
    later = new_request(setting, now=berlin(2027, 3, 4, 9), phone="0211 3333333")
    for request in (old, today, later):
        claim_request(request, setting["caseworker"], CALL)
    assert owed_by(setting["caseworker"], berlin(2027, 3, 4, 8)) == [old, today]
    assert owed_by(setting["colleague"], berlin(2027, 3, 4, 8)) == []


# Purge


def test_purge_erases_the_callers_data_after_the_retention_time(setting, app):
    kept_open = new_request(setting, phone="0211 1111111", note="keep")
    recent = new_request(setting, phone="0211 2222222")
    close_request(recent, "withdrawn", setting["reception"], berlin(2027, 4, 20, 9))
    old = new_request(setting, phone="0211 3333333", email="a@example.org", note="private")
    claim_request(old, setting["caseworker"], CALL)
    record_attempt(old, "reached", "said private things", setting["caseworker"], CALL)
    add_to_request(old, "more", False, setting["reception"], CALL)
    close_request(old, "resolved", setting["caseworker"], berlin(2027, 3, 26, 9))
    db.session.commit()
    assert app.config["CALLBACK_RETENTION_DAYS_AFTER_CLOSING"] == 30
    assert purge_closed_requests(berlin(2027, 4, 26, 9)) == 1
    db.session.commit()
    assert (old.caller_name, old.phone, old.email, old.note, old.internal_note) == (
        "–",
        None,
        None,
        "",
        "",
    )
    assert old.attempts[0].note == ""
    assert old.purged_at is not None
    assert old.outcome == CallbackOutcome.RESOLVED  # the anonymous record stays
    assert recent.phone == "+492112222222" and kept_open.note == "keep"
    assert purge_closed_requests(berlin(2027, 4, 26, 9)) == 0


def test_the_daily_purge_covers_callback_requests(setting, runner):
    old = new_request(setting, phone="0211 3333333")
    close_request(old, "withdrawn", setting["reception"], berlin(2027, 3, 26, 9))
    db.session.commit()
    with freeze_time(berlin(2027, 4, 26, 9)):
        result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "callback_requests=1," in result.output
    db.session.refresh(old)
    assert old.phone is None and old.caller_name == "–"


def test_staff_and_public_forms_are_checked_by_one_function(app, make_office):
    """Both forms go through forms.caller_details; only the staff form can mark urgent."""
    from werkzeug.datastructures import MultiDict

    from booking.callbacks.forms import NewCallbackForm, PublicCallbackForm, caller_details

    office = make_office(slug="stelle")
    typed = MultiDict(
        [
            ("name", " Familie Yılmaz "),
            ("phone", "0211 1234567"),
            ("email", "Y@Example.org"),
            ("language", "tr"),
            ("interpreter_needed", "y"),
            ("reachable", "wed-pm"),
            ("reachable", "mon-am"),
            ("voicemail_ok", "y"),
            ("urgent", "y"),
            ("note", "Antrag"),
        ]
    )
    with app.test_request_context(method="POST", data=typed):
        staff = caller_details(NewCallbackForm(formdata=typed), office, None)
        public = caller_details(PublicCallbackForm(formdata=typed), office, None)
    assert staff.urgent and not public.urgent
    assert staff.phone == public.phone == "+492111234567"
    assert staff.reachable == public.reachable == ("mon-am", "wed-pm")
    assert (staff.name, staff.email, staff.language) == ("Familie Yılmaz", "y@example.org", "tr")
    assert {**vars(staff), "urgent": False} == vars(public)
    for module in ("views", "public"):
        source = (Path(__file__).parents[1] / "booking/callbacks" / f"{module}.py").read_text()
        assert "check_caller_details(" not in source


def test_the_worker_purges_callback_requests_and_says_so(setting, runner):
    old = new_request(setting, phone="0211 3333333")
    close_request(old, "withdrawn", setting["reception"], berlin(2027, 3, 26, 9))
    db.session.commit()
    with freeze_time(berlin(2027, 4, 26, 9)):
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "callback_requests=1," in result.output
    db.session.refresh(old)
    assert old.phone is None
