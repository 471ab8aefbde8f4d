"""Statistics (booking/reports): figures from known facts, Berlin period boundaries, the
small-number rule, CSV without formulas, access per role and office, accessible charts, and
figures a privacy purge leaves unchanged."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.appointments.models import Appointment
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.callbacks.models import CallAttempt, CallbackRequest
from booking.extensions import db
from booking.privacy.services import purge_personal_data
from booking.reports.csvfile import csv_bytes, neutralise
from booking.reports.facts import appointment_facts, callback_facts, queue_facts
from booking.reports.stats import (
    AppointmentFact,
    CallbackFact,
    Period,
    QueueFact,
    compute,
    count_text,
    last_full_month,
    median,
    percentile_90,
    share,
)
from booking.reports.views import operator_slug
from booking.waiting.models import QueueEntry

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def at(day: int, hour: int = 10, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def appointment(day=5, status="attended", channel="online", lead_days=3, **values):
    starts = values.pop("starts_at", at(day))
    return AppointmentFact(
        office_id=values.pop("office_id", 1),
        service_id=values.pop("service_id", 1),
        starts_at=starts,
        created_at=starts - timedelta(days=lead_days),
        channel=channel,
        status=status,
        cancelled_by_family=values.pop("cancelled_by_family", None),
        language=values.pop("language", "de"),
        interpreter=values.pop("interpreter", False),
    )


def walk_in(day=6, state="served", wait_minutes=10, kind="walk_in"):
    checked_in = at(day, 9)
    called = None if state == "left" else checked_in + timedelta(minutes=wait_minutes)
    return QueueFact(1, date(2026, 10, day), kind, state, checked_in, called)


def callback(day=7, first_after_hours=2, outcome="resolved", due_hours=30, **values):
    received = at(day, 9)
    first = None if first_after_hours is None else received + timedelta(hours=first_after_hours)
    return CallbackFact(
        office_id=1,
        received_at=received,
        due_at=received + timedelta(hours=due_hours),
        first_attempt_at=first,
        closed_at=values.pop("closed_at", first),
        outcome=outcome,
        language=values.pop("language", "de"),
        interpreter=values.pop("interpreter", False),
    )


# --- figures from known facts ---------------------------------------------------------


def test_appointment_figures_by_service_channel_and_outcome():
    facts = [
        *(appointment(channel="online", lead_days=d) for d in (1, 2, 3, 4, 10)),
        *(appointment(channel="phone", service_id=2, lead_days=1) for _ in range(3)),
        appointment(status="no_show", channel="desk", lead_days=0.5),
        appointment(status="booked"),
        appointment(status="cancelled", cancelled_by_family=True),
        appointment(status="cancelled", cancelled_by_family=False, service_id=2),
        appointment(starts_at=at(1, month=11)),  # November: outside
    ]
    figures = compute(OCTOBER, NOW, facts, [], [])
    assert figures.by_channel == {"online": 6, "phone": 3, "desk": 1}
    assert figures.outcomes == {
        "attended": 8,
        "no_show": 1,
        "not_marked": 1,
        "cancelled_by_family": 1,
        "cancelled_by_staff": 1,
    }
    assert figures.held == 10 and figures.cancelled == 2
    assert figures.by_service[1]["attended"] == 5 and figures.by_service[2]["attended"] == 3
    assert figures.by_service[2]["cancelled_by_staff"] == 1
    assert figures.no_show_share == pytest.approx(1 / 9)
    online = figures.lead_days["online"]
    assert online.median == pytest.approx(3.0)  # 1 2 3 3 4 10 (the booked one has 3 days)
    assert online.p90 == pytest.approx(10.0)
    assert figures.lead_days["all"].count == 10  # cancelled ones have no lead time
    assert figures.by_month["2026-10"] == {"appointments": 10, "no_shows": 1, "cancellations": 2}


def test_languages_and_interpreter_needs_from_appointments_and_callbacks():
    facts = [
        appointment(language="ar", interpreter=True),
        appointment(language="ar", interpreter=False),
        appointment(language="ar", status="cancelled", interpreter=True),  # not counted
    ]
    requests = [callback(language="ar", interpreter=True), callback(language="tr")]
    figures = compute(OCTOBER, NOW, facts, [], requests)
    assert figures.languages["ar"] == {
        "appointments": 2,
        "appointments_interpreter": 1,
        "callbacks": 1,
        "callbacks_interpreter": 1,
    }
    assert figures.languages["tr"] == {"callbacks": 1}


def test_queue_figures_and_walk_ins_as_a_channel():
    queue = [
        *(walk_in(wait_minutes=m) for m in (5, 10, 15, 20, 60)),
        walk_in(state="left"),
        walk_in(kind="appointment", wait_minutes=2),
    ]
    figures = compute(OCTOBER, NOW, [], queue, [])
    assert figures.walk_ins == 6
    assert figures.queue["walk_in"] == {"all": 6, "served": 5, "left": 1}
    assert figures.by_channel["walk_in"] == 5  # served walk-ins only
    assert figures.waits["walk_in"].median == 15
    assert figures.waits["walk_in"].p90 == 60
    assert figures.waits["all"].count == 6
    assert figures.by_month["2026-10"]["walk_ins"] == 6


def test_callback_figures():
    requests = [
        callback(first_after_hours=1),
        callback(first_after_hours=2),
        callback(first_after_hours=3, outcome="appointment_booked"),
        callback(first_after_hours=40, outcome="unreachable"),  # first attempt after due
        callback(first_after_hours=5, outcome="withdrawn"),
        callback(first_after_hours=None, outcome=None, day=14, due_hours=48),  # not due yet
        callback(first_after_hours=None, outcome=None, day=8, due_hours=24),  # overdue
    ]
    figures = compute(OCTOBER, NOW.replace(month=10, day=15), [], [], requests)
    assert figures.callbacks_total == 7
    assert figures.callbacks["open"] == 2 and figures.callbacks["unreachable"] == 1
    assert figures.first_attempt_hours.median == 3
    assert figures.callbacks_judged == 6  # the one not yet due is not judged
    assert figures.callbacks_in_time == 4
    assert figures.in_time_share == pytest.approx(4 / 6)
    assert figures.unreachable_share == pytest.approx(1 / 5)


def test_a_request_closed_before_any_attempt_counts_as_handled_then():
    request = callback(first_after_hours=None, outcome="withdrawn", closed_at=at(7, 11))
    figures = compute(OCTOBER, NOW, [], [], [request] * 5)
    assert figures.in_time_share == 1.0
    assert figures.first_attempt_hours.count == 0


# --- periods in Europe/Berlin ---------------------------------------------------------


def test_period_bounds_follow_berlin_midnight_across_the_clock_change():
    start, end = OCTOBER.bounds()  # summer time until 25 October 2026
    assert start == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert end == datetime(2026, 10, 31, 23, tzinfo=UTC)
    inside = [
        appointment(starts_at=datetime(2026, 9, 30, 22, 30, tzinfo=UTC)),  # 1 Oct 00:30 CEST
        appointment(starts_at=datetime(2026, 10, 31, 22, 30, tzinfo=UTC)),  # 31 Oct 23:30 CET
    ]
    outside = [
        appointment(starts_at=datetime(2026, 9, 30, 21, 30, tzinfo=UTC)),  # 30 Sep 23:30 CEST
        appointment(starts_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC)),  # 1 Nov 00:30 CET
    ]
    figures = compute(OCTOBER, NOW, inside + outside, [], [])
    assert figures.held == 2
    assert set(figures.by_month) == {"2026-10"}


def test_march_period_starts_in_winter_time_and_ends_in_summer_time():
    start, end = Period(date(2027, 3, 1), date(2027, 3, 31)).bounds()
    assert start == datetime(2027, 2, 28, 23, tzinfo=UTC)
    assert end == datetime(2027, 3, 31, 22, tzinfo=UTC)


def test_default_period_is_the_last_full_berlin_month():
    # 1 November 00:30 in Berlin is still 31 October in UTC.
    assert last_full_month(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == OCTOBER
    assert last_full_month(datetime(2026, 10, 31, 22, 30, tzinfo=UTC)).first == date(2026, 9, 1)
    january = last_full_month(datetime(2027, 1, 10, tzinfo=UTC))
    assert (january.first, january.last) == (date(2026, 12, 1), date(2026, 12, 31))
    assert Period(date(2026, 11, 20), date(2027, 1, 3)).months() == [
        "2026-11",
        "2026-12",
        "2027-01",
    ]


# --- the small-number rule ------------------------------------------------------------


def test_small_counts_and_figures_from_few_cases_are_not_shown():
    assert [count_text(n) for n in (0, 1, 4, 5, 12)] == ["0", "< 5", "< 5", "5", "12"]
    assert median([1, 2, 3, 4]) is None and median([1, 2, 3, 4, 5]) == 3
    assert percentile_90([1, 2, 3, 4]) is None
    assert share(1, 4) is None and share(1, 5) == 0.2
    figures = compute(OCTOBER, NOW, [appointment(status="no_show")] * 4, [], [])
    assert figures.no_show_share is None
    assert figures.lead_days["all"].median is None


# --- CSV ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+49", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_get_an_apostrophe(text):
    assert neutralise(text) == "'" + text


def test_csv_is_utf8_with_bom_and_neutralised():
    data = csv_bytes(["Dienst", "Anzahl"], [['=HYPERLINK("http://x")', "< 5"], ["Ümit", "7"]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Dienst", "Anzahl"], ['\'=HYPERLINK("http://x")', "< 5"], ["Ümit", "7"]]


# --- pages ----------------------------------------------------------------------------


@pytest.fixture
def offices(make_office, make_service, make_staff):
    """Two Diakonie offices and one of Caritas, with a caseworker and reception."""
    a = make_office(slug="wp-a", name="Welcome Point A", operator="Diakonie Düsseldorf")
    b = make_office(slug="wp-b", name="Welcome Point B", operator="Diakonie Düsseldorf")
    c = make_office(slug="wp-c", name="Welcome Point C", operator="Caritas")
    service = make_service(a, name='=HYPERLINK("http://evil")')
    make_service(c)
    staff = {
        "admin": make_staff(Role.ADMIN),
        "caseworker": make_staff(Role.CASEWORKER, offices=[a]),
        "reception": make_staff(Role.RECEPTION, offices=[a, b]),
    }
    for day in range(1, 8):  # seven appointments at A in October, two no-shows
        starts = at(day)
        db.session.add(
            Appointment(
                service_id=service.id,
                office_id=a.id,
                staff_id=staff["caseworker"].id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                busy_until=starts + timedelta(minutes=30),
                status="no_show" if day < 3 else "attended",
                family_name="Familie Test",
                email=f"t{day}@example.org",
                created_at=starts - timedelta(days=day),
            )
        )
    db.session.commit()
    return {"a": a, "b": b, "c": c, "staff": staff}


def login(client, auth, user):
    assert auth.login(user.email).status_code == 302
    assert client.get("/reports/?lang=en").status_code == 200  # staff pages in English


OCTOBER_ARGS = "first=2026-10-01&last=2026-10-31"


def test_office_page_shows_charts_with_title_desc_and_tables(client, auth, offices):
    login(client, auth, offices["staff"]["caseworker"])
    html = client.get(f"/reports/office/wp-a?{OCTOBER_ARGS}").get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') >= 5
    assert '<title id="chart-channels-title">Appointments by channel</title>' in html
    assert '<desc id="chart-channels-desc">' in html
    assert 'aria-labelledby="chart-channels-title chart-channels-desc"' in html
    assert '<th scope="row">online</th><td class="number">7</td>' in html
    assert '<th scope="row">no-show</th><td class="number">&lt; 5</td>' in html
    assert "shown as “&lt; 5”" in html  # valid HTML: the "<" of the hint escaped too
    assert "<script" not in html and "src=" not in html and " style=" not in html  # CSP
    assert "=HYPERLINK" in html  # escaped text, never markup
    assert '<a href="http://evil"' not in html


def test_default_period_and_bad_input_never_fail(client, auth, offices):
    with freeze_time("2026-11-03 10:00:00"):
        login(client, auth, offices["staff"]["admin"])
        page = client.get("/reports/office/wp-a?lang=de")
        assert page.status_code == 200
        assert 'value="2026-10-01"' in page.get_data(as_text=True)
        assert "Statistik" in page.get_data(as_text=True)  # the German catalog
        auth.logout()
    login(client, auth, offices["staff"]["admin"])
    for query in (
        "first=9999-01-01&last=9999-12-31",
        "first=0001-01-01&last=2026-01-01",
        "first=2026-10-31&last=2026-10-01",
        "first=yesterday&last=2026-10-01",
        "first=2020-01-01&last=2026-10-01",
        "first=2026-10-01",
    ):
        answer = client.get(f"/reports/office/wp-a?{query}")
        assert answer.status_code == 400, query
        assert "Please check your entries" in answer.get_data(as_text=True)
    assert client.get("/reports/office/wp-a?first=2026-10-01%00&last=x").status_code == 400
    assert client.get(f"/reports/office/wp-a.csv?table=nope&{OCTOBER_ARGS}").status_code == 404
    assert client.get("/reports/office/wp-a.csv?table=summary&first=9999-01-01").status_code == 400


def test_csv_download_is_named_neutralised_and_audited(client, auth, offices):
    user = offices["staff"]["caseworker"]
    login(client, auth, user)
    answer = client.get(f"/reports/office/wp-a.csv?table=services&{OCTOBER_ARGS}")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="statistik-wp-a-services-2026-10-01-2026-10-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][:4] == ['\'=HYPERLINK("http://evil")', "7", "5", "< 5"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reports.exported"))
    assert event.actor_id == user.id and event.object_id == str(offices["a"].id)
    assert "services" in event.detail and "Familie" not in event.detail


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("admin", "/reports/city", 200),
        ("admin", "/reports/operator/caritas", 200),
        ("admin", "/reports/office/wp-c", 200),
        ("caseworker", "/reports/city", 403),
        ("caseworker", "/reports/city.csv?table=summary", 403),
        ("caseworker", "/reports/office/wp-a", 200),
        ("caseworker", "/reports/office/wp-b", 403),
        ("caseworker", "/reports/office/wp-b.csv?table=summary", 403),
        ("caseworker", "/reports/operator/diakonie-dusseldorf", 403),  # B is not theirs
        ("reception", "/reports/operator/diakonie-dusseldorf", 200),  # A and B are
        ("reception", "/reports/operator/caritas", 403),
        ("reception", "/reports/office/wp-b", 200),
        ("reception", "/reports/office/wp-c", 403),
        ("reception", "/reports/operator/no-such-operator", 404),
        (None, "/reports/office/wp-a", 302),
        (None, "/reports/", 302),
    ],
)
def test_access_per_role_and_office(client, auth, offices, role, url, status):
    if role is not None:
        login(client, auth, offices["staff"][role])
    assert client.get(url).status_code == status


def test_index_lists_only_what_the_user_may_open(client, auth, offices):
    login(client, auth, offices["staff"]["reception"])
    html = client.get("/reports/").get_data(as_text=True)
    assert "/reports/office/wp-a" in html and "/reports/office/wp-b" in html
    assert "/reports/operator/diakonie-dusseldorf" in html
    assert "/reports/office/wp-c" not in html and "/reports/city" not in html
    assert 'href="/reports/"' in html  # the staff navigation
    assert (
        operator_slug("Gerresheimer Netz gegen Armut e. V.") == "gerresheimer-netz-gegen-armut-e-v"
    )


def test_a_purge_changes_no_figure(app, offices):
    """Freeze the figures, let the retention periods pass and purge: the same figures."""
    a = offices["a"]
    caseworker = offices["staff"]["caseworker"]
    db.session.add(
        QueueEntry(
            office_id=a.id,
            day=date(2026, 10, 6),
            number=1,
            kind="walk_in",
            state="served",
            name="Ali",
            note="Wohnung",
            checked_in_at=at(6, 9),
            called_at=at(6, 9) + timedelta(minutes=12),
            finished_at=at(6, 10),
        )
    )
    request = CallbackRequest(
        office_id=a.id,
        status="closed",
        outcome="resolved",
        caller_name="Frau Test",
        phone="+492111234567",
        language="uk",
        interpreter_needed=True,
        received_at=at(7, 9),
        due_at=at(9, 14),
        closed_at=at(7, 12),
        assigned_to_id=caseworker.id,
    )
    request.attempts.append(CallAttempt(at=at(7, 11), outcome="reached", note="erreicht"))
    db.session.add(request)
    cancelled = db.session.scalars(select(Appointment)).first()
    cancelled.status, cancelled.cancelled_at = "cancelled", at(1, 8)
    cancelled.cancelled_by_family, cancelled.cancel_reason = True, "Krank"
    db.session.commit()

    def figures():
        ids = [a.id]
        return compute(
            OCTOBER,
            NOW,
            appointment_facts(ids, OCTOBER),
            queue_facts(ids, OCTOBER),
            callback_facts(ids, OCTOBER),
        )

    before = figures()
    assert before.held == 6 and before.cancelled == 1 and before.walk_ins == 1
    assert before.callbacks_total == 1 and before.first_attempt_hours.count == 1
    with freeze_time("2027-10-01 03:00:00"):
        report = purge_personal_data(datetime(2027, 10, 1, 3, tzinfo=UTC))
        db.session.commit()
    assert (report.appointments, report.cancelled) == (6, 1)  # per rule
    assert report.callbacks == 1 and report.queue_entries == 1
    assert db.session.scalar(select(Appointment.family_name).limit(1)) == "–"
    db.session.expire_all()
    assert figures() == before


def test_who_cancelled_is_kept_on_the_appointment(offices):
    appointment = db.session.scalars(select(Appointment)).first()
    appointment.status = "booked"
    appointment.cancel("Krank", at(1, 8), by_family=True)
    assert appointment.cancelled_by_family is True
    appointment.status = "booked"
    appointment.cancel("Dienstreise", at(1, 8))
    assert appointment.cancelled_by_family is False


def test_long_chart_labels_keep_start_and_end():
    from booking.reports.charts import MAX_LABEL, Bar, bar_chart

    label = "Beratung: Wohnen, Arbeit, Schule, Studium (Welcome Point Gerricusplatz)"
    svg = str(bar_chart("c", "T", "D", [Bar(label, 3.0, "< 5"), Bar("kurz & <gut>", 7.0, "7")]))
    shown = svg.split('text-anchor="end" fill="#1b1b1b">')[1].split("</text>")[0]
    assert len(shown) == MAX_LABEL and shown.startswith("Beratung") and shown.endswith("platz)")
    assert "kurz &amp; &lt;gut&gt;" in svg and "<rect" in svg


def test_neighbour_months_of_a_period():
    from booking.reports.stats import neighbour_months

    before, after = neighbour_months(OCTOBER, NOW)
    assert before == Period(date(2026, 9, 1), date(2026, 9, 30))
    assert after == Period(date(2026, 11, 1), date(2026, 11, 30))  # begun on 15 November
    assert neighbour_months(Period(date(2026, 11, 1), date(2026, 11, 30)), NOW)[1] is None
    before, _after = neighbour_months(Period(date(2027, 1, 10), date(2027, 3, 5)), NOW)
    assert before == Period(date(2026, 12, 1), date(2026, 12, 31))


def test_page_links_the_month_before(client, auth, offices):
    login(client, auth, offices["staff"]["caseworker"])
    html = client.get(f"/reports/office/wp-a?{OCTOBER_ARGS}").get_data(as_text=True)
    assert 'href="/reports/office/wp-a?first=2026-09-01&amp;last=2026-09-30"' in html
