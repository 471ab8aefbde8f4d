import re
from pathlib import Path

from sqlalchemy import select

from booking.audit.models import AuditEvent
from booking.auth.models import Role, StaffUser
from booking.callbacks import labels as callback_labels
from booking.extensions import db
from booking.notify.models import OutboxChannel, OutboxMessage, OutboxStatus
from booking.offices.models import Office, OfficeKind, Service
from booking.templating import AUDIT_ACTION_LABELS, LABELS, OBJECT_TYPE_LABELS, OUTBOX_STATUS_LABELS
from booking.waiting import labels as queue_labels
from tests.conftest import PASSWORD

SOURCE = Path(__file__).resolve().parents[1] / "booking"

OFFICE_FORM = {
    "name": "Welcome Point Gerricusplatz",
    "slug": "welcome-point-gerricusplatz",
    "kind": "welcome_point",
    "district": "7",
    "address": "Gerricusplatz, Düsseldorf",
    "operator": "Gerresheimer Netz gegen Armut",
    "phone": "0211 1234567",
    "public_notes": "",
}


def login_admin(auth, make_staff) -> StaffUser:
    admin = make_staff(Role.ADMIN, name="Andrea Admin")
    auth.login(admin.email)
    return admin


def test_admin_creates_an_office(client, auth, make_staff):
    login_admin(auth, make_staff)
    response = client.post("/admin/offices/new", data=OFFICE_FORM)
    assert response.status_code == 302
    office = db.session.scalar(select(Office))
    assert office.kind == OfficeKind.WELCOME_POINT
    assert office.district == 7
    assert office.phone == "+49 211 1234567"
    page = client.get("/admin/offices").get_data(as_text=True)
    assert "Welcome Point Gerricusplatz" in page
    assert "Stelle angelegt." in page
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "office.created" in actions


def test_invalid_office_form_keeps_what_was_typed(client, auth, make_staff):
    login_admin(auth, make_staff)
    bad = dict(OFFICE_FORM, slug="Not A Slug", district="12", phone="12")
    response = client.post("/admin/offices/new", data=bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Welcome Point Gerricusplatz"' in html
    assert 'value="Gerresheimer Netz gegen Armut"' in html
    assert "Bitte nur Kleinbuchstaben" in html
    assert "Düsseldorf hat die Stadtbezirke 1 bis 10." in html
    assert "Bitte geben Sie eine gültige Telefonnummer ein." in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(Office)) is None


def test_duplicate_slug_is_refused_with_the_form_kept(client, auth, make_staff, make_office):
    make_office(slug="welcome-point-gerricusplatz")
    login_admin(auth, make_staff)
    html = client.post("/admin/offices/new", data=OFFICE_FORM).get_data(as_text=True)
    assert "Dieser Kurzname wird schon von einer anderen Stelle verwendet." in html
    assert 'value="Gerricusplatz, Düsseldorf"' in html


def test_admin_edits_and_deactivates_an_office(client, auth, make_staff, make_office):
    office = make_office()
    login_admin(auth, make_staff)
    form = client.get(f"/admin/offices/{office.id}/edit").get_data(as_text=True)
    assert office.name in form
    edited = dict(OFFICE_FORM, slug=office.slug, name="Neuer Name")
    assert client.post(f"/admin/offices/{office.id}/edit", data=edited).status_code == 302
    assert client.get(f"/admin/offices/{office.id}/deactivate").status_code == 405
    assert client.post(f"/admin/offices/{office.id}/deactivate").status_code == 302
    db.session.expire_all()
    office = db.session.get(Office, office.id)
    assert office.name == "Neuer Name" and office.active is False
    assert "Neuer Name" not in client.get("/").get_data(as_text=True)


def test_admin_creates_a_service(client, auth, make_staff, make_office):
    office = make_office()
    login_admin(auth, make_staff)
    data = {
        "office_id": office.id,
        "name": "Beratung und Antragsaufnahme",
        "slug": "beratung-35a",
        "minutes": "45",
        "buffer_minutes": "15",
        "min_notice_hours": "24",
        "horizon_days": "60",
        "max_open_bookings_per_contact": "2",
        "public": "y",
    }
    assert client.post("/admin/services/new", data=data).status_code == 302
    service = db.session.scalar(select(Service))
    assert (service.minutes, service.buffer_minutes, service.public) == (45, 15, True)
    bad = client.post("/admin/services/new", data=dict(data, slug="other", minutes="0"))
    assert "Zahl muss zwischen 5 und 480 liegen." in bad.get_data(as_text=True)
    assert db.session.scalar(select(Service).where(Service.slug == "other")) is None


def test_admin_creates_staff_sets_password_and_the_person_logs_in(
    app, client, auth, make_staff, make_office, make_service
):
    office = make_office()
    service = make_service(office)
    login_admin(auth, make_staff)
    response = client.post(
        "/admin/staff/new",
        data={
            "name": "Layla Haddad",
            "email": "L.Haddad@example.org",
            "role": "caseworker",
            "office_ids": [office.id],
            "service_ids": [service.id],
            "languages": "de, ar, en",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "l.haddad@example.org"))
    assert response.headers["Location"] == f"/admin/staff/{user.id}/password"
    assert user.language_codes == ["ar", "de", "en"]
    assert [s.slug for s in user.services] == [service.slug]
    client.post(
        f"/admin/staff/{user.id}/password",
        data={"new_password": "layla's new passphrase", "confirm": "layla's new passphrase"},
    )
    other = app.test_client()
    login = other.post(
        "/login", data={"email": "l.haddad@example.org", "password": "layla's new passphrase"}
    )
    assert login.headers["Location"] == "/calendar/me"  # a caseworker lands on their day


def test_service_of_another_office_is_refused(client, auth, make_staff, make_office, make_service):
    mine, other = make_office(), make_office()
    foreign = make_service(other)
    login_admin(auth, make_staff)
    html = client.post(
        "/admin/staff/new",
        data={
            "name": "X",
            "email": "x@example.org",
            "role": "caseworker",
            "office_ids": [mine.id],
            "service_ids": [foreign.id],
        },
    ).get_data(as_text=True)
    assert "Es können nur Angebote der Stellen gewählt werden" in html
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "x@example.org")) is None


def test_bad_language_code_is_refused(client, auth, make_staff):
    login_admin(auth, make_staff)
    html = client.post(
        "/admin/staff/new",
        data={"name": "X", "email": "x@example.org", "role": "reception", "languages": "de, q9"},
    ).get_data(as_text=True)
    assert "Unbekanntes Sprachkürzel: q9" in html
    assert 'value="de, q9"' in html


def test_deactivating_staff_ends_their_session(app, client, auth, make_staff):
    login_admin(auth, make_staff)
    user = make_staff()
    their_client = app.test_client()
    their_client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert their_client.get("/staff/").status_code == 200
    assert client.post(f"/admin/staff/{user.id}/deactivate").status_code == 302
    assert their_client.get("/staff/").status_code == 302


def test_last_admin_cannot_be_deactivated_or_demoted(client, auth, make_staff):
    admin = login_admin(auth, make_staff)
    client.post(f"/admin/staff/{admin.id}/deactivate")
    db.session.expire_all()
    assert db.session.get(StaffUser, admin.id).active is True
    html = client.post(
        f"/admin/staff/{admin.id}/edit",
        data={"name": admin.name, "email": admin.email, "role": "reception"},
    ).get_data(as_text=True)
    assert "Das letzte Administrationskonto kann die Rolle nicht verlieren." in html
    db.session.expire_all()
    assert db.session.get(StaffUser, admin.id).role == Role.ADMIN


def test_audit_log_lists_staff_actions(client, auth, make_staff, make_office):
    login_admin(auth, make_staff)
    office = make_office()
    client.post(f"/admin/offices/{office.id}/deactivate")
    html = client.get("/admin/audit").get_data(as_text=True).split("<tbody>")[1]
    assert "Stelle deaktiviert" in html  # a label, not the code (the search form has codes)
    assert "office.deactivated" not in html
    assert "angemeldet" in html and "auth.login" not in html
    assert "Andrea Admin" in html


def test_unknown_records_are_404(client, auth, make_staff):
    login_admin(auth, make_staff)
    assert client.get("/admin/offices/999999/edit").status_code == 404
    assert client.post("/admin/staff/999999/deactivate").status_code == 404


def source_lines(needle: str) -> list[str]:
    return [
        line
        for path in SOURCE.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if needle in line
    ]


def test_each_audit_label_is_defined_in_one_place(app):
    """The core table and each feature's own table never name the same code twice."""
    tables = [AUDIT_ACTION_LABELS, callback_labels.AUDIT_LABELS, queue_labels.AUDIT_LABELS]
    codes = [code for table in tables for code in table]
    assert len(codes) == len(set(codes))
    objects = [OBJECT_TYPE_LABELS, callback_labels.OBJECT_LABELS, queue_labels.OBJECT_LABELS]
    codes = [code for table in objects for code in table]
    assert len(codes) == len(set(codes))
    assert str(LABELS["audit_action"]["callback.refused"]) == (
        "Rückrufbitte abgewiesen (Online-Formular)"
    )


def test_every_audit_action_and_message_kind_has_a_label(app):
    """Also those that features add to the shared tables when the app starts."""
    actions = {
        action
        for line in source_lines("record_event(")
        for action in re.findall(r'"([a-z_]+\.[a-z_]+)"', line)
    }
    reasons = {r for line in source_lines("reason") for r in re.findall(r'reason="(\w+)"', line)}
    reasons |= {r for line in source_lines("reason: str =") for r in re.findall(r'"(\w+)"', line)}
    actions |= {"auth." + reason for reason in reasons}
    assert "auth.timeout" in actions and "office.deactivated" in actions  # the search works
    assert actions - set(LABELS["audit_action"]) == set()
    kinds = {
        kind
        for line in source_lines("queue_") + source_lines("tell_") + source_lines("kind=")
        for kind in re.findall(r'(?:(?:queue|tell)_\w+\(\w+, |kind=)"(\w+)"', line)
    }
    assert {"confirmation", "staff_agenda"} <= kinds
    assert kinds - set(LABELS["outbox_kind"]) == set()
    assert set(OUTBOX_STATUS_LABELS) == {status.value for status in OutboxStatus}


def test_outbox_shows_labels_not_codes(client, auth, make_staff):
    login_admin(auth, make_staff)
    message = OutboxMessage(
        kind="staff_cancelled",
        channel=OutboxChannel.SMS,
        recipient="k.becker@example.org",
        subject="",
        body_text="Ein Termin wurde abgesagt.",
        status=OutboxStatus.FAILED,
    )
    db.session.add(message)
    db.session.commit()
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "Hinweis an Fachkraft: abgesagt (SMS)" in html
    assert "fehlgeschlagen" in html
    assert "staff_cancelled" not in html and ">failed<" not in html
    html = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "<h1>Hinweis an Fachkraft: abgesagt</h1>" in html
    assert "fehlgeschlagen" in html and "staff_cancelled" not in html
