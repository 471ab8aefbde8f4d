"""The operator admin (issue 12): manages offices, services, staff and hours of its own operator
only. Lists are filtered; every POST is checked (ids of another operator, form values naming
another operator's offices, roles it may not give); the setup file and the admin forms know the
role; staff of one operator never work for offices of two."""

import textwrap

import pytest
from sqlalchemy import select

from booking.audit.models import AuditEvent
from booking.auth.models import Role, StaffUser
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.schedule.models import Closure, WeeklyHours
from tests.test_admin import OFFICE_FORM
from tests.test_setup import GOOD, write

DIAKONIE, CARITAS = "Diakonie Düsseldorf", "Caritasverband Düsseldorf"


@pytest.fixture
def two(make_office, make_service, make_staff):
    mine = make_office(slug="wp-gumbert", name="Welcome Point Gumbertstraße", operator=DIAKONIE)
    also = make_office(slug="wp-merowinger", name="Welcome Point Merowinger", operator=DIAKONIE)
    theirs = make_office(slug="wp-leopold", name="Welcome Point Leopoldstraße", operator=CARITAS)
    mine_service = make_service(mine, slug="beratung-gumbert")
    their_service = make_service(theirs, slug="beratung-leopold")
    manager = make_staff(Role.OPERATOR_ADMIN, offices=[mine], name="Dirk Diakon")
    colleague = make_staff(Role.CASEWORKER, offices=[mine], name="Greta Gumbert")
    stranger = make_staff(Role.CASEWORKER, offices=[theirs], name="Carla Caritas")
    admin = make_staff(Role.ADMIN, name="Ada Stadt")
    privacy = make_staff(Role.PRIVACY, name="Dana Datenschutz")
    return {
        "mine": mine,
        "also": also,
        "theirs": theirs,
        "mine_service": mine_service,
        "their_service": their_service,
        "manager": manager,
        "colleague": colleague,
        "stranger": stranger,
        "admin": admin,
        "privacy": privacy,
    }


@pytest.fixture
def manager(client, auth, two):
    assert auth.login(two["manager"].email).headers["Location"] == "/admin/"
    return two["manager"]


def staff_form(**values) -> dict:
    return {"name": "Neu", "email": "neu@example.org", "role": "caseworker", **values}


def test_lists_show_only_the_own_operator(client, manager, two):
    offices = client.get("/admin/offices").text
    assert "Welcome Point Gumbertstraße" in offices and "Welcome Point Merowinger" in offices
    assert "Leopoldstraße" not in offices
    services = client.get("/admin/services").text
    assert "beratung-gumbert" in services and "beratung-leopold" not in services
    staff = client.get("/admin/staff").text
    assert "Greta Gumbert" in staff
    for hidden in ("Carla Caritas", "Ada Stadt", "Dana Datenschutz"):
        assert hidden not in staff
    nav = client.get("/admin/").text
    for hidden in ("/admin/outbox", "/admin/audit", "/admin/privacy/", "/admin/feedback/"):
        assert f'href="{hidden}"' not in nav
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/outbox").status_code == 403


def test_ids_of_another_operator_are_404_by_get_and_post(client, manager, two):
    theirs, service, stranger = two["theirs"], two["their_service"], two["stranger"]
    for path in (
        f"/admin/offices/{theirs.id}/edit",
        f"/admin/services/{service.id}/edit",
        f"/admin/staff/{stranger.id}/edit",
        f"/admin/staff/{stranger.id}/password",
        f"/admin/staff/{two['admin'].id}/edit",
        f"/admin/offices/{theirs.id}/consultation-hours",
        f"/calendar/hours/staff/{stranger.id}",
        f"/calendar/absences/staff/{stranger.id}",
    ):
        assert client.get(path).status_code == 404, path
        assert client.post(path, data={"name": "x"}).status_code == 404, path
    for path in (
        f"/admin/offices/{theirs.id}/deactivate",
        f"/admin/services/{service.id}/deactivate",
        f"/admin/staff/{stranger.id}/deactivate",
        f"/admin/staff/{two['admin'].id}/deactivate",
    ):
        assert client.post(path).status_code == 404, path
    db.session.expire_all()
    assert db.session.get(Office, theirs.id).active
    assert db.session.get(Service, service.id).active
    assert db.session.get(StaffUser, stranger.id).active
    assert db.session.get(StaffUser, two["admin"].id).active


def test_new_staff_only_at_own_offices_and_only_with_own_roles(client, manager, two):
    form = client.get("/admin/staff/new").text
    assert 'value="operator_admin"' in form and 'value="caseworker"' in form
    assert 'value="admin"' not in form and 'value="privacy"' not in form
    assert "Leopoldstraße" not in form
    refused = [
        staff_form(office_ids=[two["theirs"].id]),
        staff_form(office_ids=[two["mine"].id, two["theirs"].id]),
        staff_form(office_ids=[two["mine"].id], role="admin"),
        staff_form(office_ids=[two["mine"].id], role="privacy"),
        staff_form(office_ids=[two["mine"].id], service_ids=[two["their_service"].id]),
        staff_form(role="operator_admin"),  # no office: no operator
    ]
    for data in refused:
        assert client.post("/admin/staff/new", data=data).status_code == 200, data
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "neu@example.org")) is None
    made = client.post("/admin/staff/new", data=staff_form(office_ids=[two["mine"].id]))
    assert made.status_code == 302
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "neu@example.org"))
    assert [o.slug for o in user.offices] == ["wp-gumbert"] and user.role == Role.CASEWORKER


def test_no_escalation_and_no_moving_staff_to_another_operator(client, manager, two):
    colleague = two["colleague"]
    base = {"name": colleague.name, "email": colleague.email}
    for data in (
        {**base, "role": "admin", "office_ids": [two["mine"].id]},
        {**base, "role": "privacy", "office_ids": [two["mine"].id]},
        {**base, "role": "caseworker", "office_ids": [two["theirs"].id]},
    ):
        assert client.post(f"/admin/staff/{colleague.id}/edit", data=data).status_code == 200
    # Nor itself: an operator admin cannot make itself an admin or take another's office.
    own = {"name": manager.name, "email": manager.email}
    for data in (
        {**own, "role": "admin", "office_ids": [two["mine"].id]},
        {**own, "role": "operator_admin", "office_ids": [two["mine"].id, two["theirs"].id]},
    ):
        assert client.post(f"/admin/staff/{manager.id}/edit", data=data).status_code == 200
    db.session.expire_all()
    for user in (db.session.get(StaffUser, colleague.id), db.session.get(StaffUser, manager.id)):
        assert user.role in (Role.CASEWORKER, Role.OPERATOR_ADMIN)
        assert {o.operator for o in user.offices} == {DIAKONIE}
    moved = client.post(
        f"/admin/staff/{colleague.id}/edit",
        data={**base, "role": "reception", "office_ids": [two["also"].id]},
    )
    assert moved.status_code == 302  # within the operator: allowed
    assert "staff.changed" in db.session.scalars(select(AuditEvent.action)).all()


def test_offices_keep_the_operator_and_services_stay_at_own_offices(client, manager, two):
    form = client.get("/admin/offices/new").text
    assert 'name="operator" readonly required type="text" value="Diakonie Düsseldorf"' in form
    foreign = {**OFFICE_FORM, "operator": CARITAS}
    assert client.post("/admin/offices/new", data=foreign).status_code == 200
    assert (
        client.post(
            f"/admin/offices/{two['mine'].id}/edit", data={**foreign, "slug": "wp-gumbert"}
        ).status_code
        == 200
    )
    db.session.expire_all()
    assert db.session.get(Office, two["mine"].id).operator == DIAKONIE
    assert (
        client.post("/admin/offices/new", data={**OFFICE_FORM, "operator": DIAKONIE}).status_code
        == 302
    )
    new = db.session.scalar(select(Office).where(Office.slug == OFFICE_FORM["slug"]))
    assert new.operator == DIAKONIE
    service = {"name": "Beratung", "slug": "beratung-neu", "minutes": "30"}
    assert (
        client.post(
            "/admin/services/new", data={**service, "office_id": two["theirs"].id}
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/admin/services/{two['mine_service'].id}/edit",
            data={**service, "office_id": two["theirs"].id},
        ).status_code
        == 200
    )
    assert db.session.scalar(select(Service).where(Service.slug == "beratung-neu")) is None
    assert (
        client.post(
            "/admin/services/new", data={**service, "office_id": two["mine"].id}
        ).status_code
        == 302
    )


def test_hours_and_closures_of_own_staff_and_offices(client, manager, two):
    colleague = two["colleague"]
    page = client.get(f"/calendar/hours/staff/{colleague.id}")
    assert page.status_code == 200
    added = client.post(
        f"/calendar/hours/staff/{colleague.id}",
        data={"office_id": two["mine"].id, "weekdays": ["0"], "start": "09:00", "end": "12:00"},
    )
    assert added.status_code == 302
    assert db.session.scalar(select(WeeklyHours).where(WeeklyHours.staff_id == colleague.id))
    closures = client.get("/admin/closures").text
    assert 'value="0"' not in closures  # "all offices" is the city's
    for office_id in (0, two["theirs"].id):
        data = {"office_id": office_id, "first_day": "2030-01-02", "reason": "x"}
        assert client.post("/admin/closures", data=data).status_code == 200
    assert db.session.scalar(select(Closure)) is None
    day = two["mine"].created_at.date()
    city = Closure(office_id=None, first_day=day, last_day=day, reason="Stadt")
    db.session.add(city)
    db.session.commit()
    assert client.post(f"/admin/closures/{city.id}/delete").status_code == 404


def test_operator_admin_opens_no_family_records(client, manager, two):
    for path in ("/calendar/office/wp-gumbert", "/callbacks/", "/queue/wp-gumbert", "/desk/"):
        assert client.get(path).status_code == 403, path
    assert client.get("/staff/offices/wp-gumbert").status_code == 403
    # The anonymous statistics of its operator, not of another.
    assert client.get("/reports/office/wp-gumbert").status_code == 200
    assert client.get("/reports/operator/diakonie-dusseldorf").status_code == 200
    assert client.get("/reports/office/wp-leopold").status_code == 403
    assert client.get("/reports/city").status_code == 403


def test_admin_may_not_mix_operators_for_one_person(client, auth, two):
    auth.login(two["admin"].email)
    data = staff_form(office_ids=[two["mine"].id, two["theirs"].id])
    page = client.post("/admin/staff/new", data=data)
    assert page.status_code == 200
    assert "müssen zum selben Träger gehören" in page.text
    # An admin may make an operator admin of any operator, and an admin (no office).
    made = client.post(
        "/admin/staff/new", data=staff_form(role="operator_admin", office_ids=[two["theirs"].id])
    )
    assert made.status_code == 302


OPERATOR_ADMIN = """
[[staff]]
email = "leitung@example.org"
name = "Leitung"
role = "operator_admin"
offices = ["eingliederungshilfe"]
"""


def test_the_setup_file_knows_the_operator_admin(runner, tmp_path):
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, GOOD + OPERATOR_ADMIN))])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "leitung@example.org"))
    assert user.role == Role.OPERATOR_ADMIN


def test_the_setup_file_refuses_an_operator_admin_without_office_and_mixed_operators(
    runner, tmp_path
):
    lonely = OPERATOR_ADMIN.replace('offices = ["eingliederungshilfe"]', "offices = []")
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, GOOD + lonely))])
    assert result.exit_code == 1 and "operator admin needs" in result.output
    second = textwrap.dedent(
        """
        [[office]]
        slug = "wp-leopold"
        name = "Welcome Point Leopoldstraße"
        kind = "welcome_point"
        address = "Leopoldstraße, Düsseldorf"
        operator = "Caritasverband Düsseldorf"
        """
    )
    mixed = second + OPERATOR_ADMIN.replace(
        '"eingliederungshilfe"]', '"eingliederungshilfe", "wp-leopold"]'
    )
    result = runner.invoke(args=["setup", "load", str(write(tmp_path, GOOD + mixed))])
    assert result.exit_code == 1 and "more than one operator" in result.output
    assert db.session.scalar(select(StaffUser)) is None


def test_the_services_check_again_what_a_form_would_have_refused(app, two):
    """Defence in depth: the admin services refuse for an operator admin what the form's
    choices already leave out, so a new caller (a CLI, an API) cannot skip the boundary."""
    from booking.admin.services import (
        AdminError,
        save_office,
        save_service,
        save_staff,
        set_office_active,
        set_staff_active,
    )
    from booking.core.exceptions import NotAllowed

    actor = two["manager"]
    staff = {"name": "Neu", "email": "neu@example.org", "languages": ""}
    refusals = [
        (AdminError, lambda: save_staff(None, {**staff, "role": "admin"}, actor)),
        (
            AdminError,
            lambda: save_staff(
                None, {**staff, "role": "caseworker", "office_ids": [two["theirs"].id]}, actor
            ),
        ),
        (
            NotAllowed,
            lambda: save_staff(
                two["stranger"],
                {**staff, "role": "caseworker", "office_ids": [two["mine"].id]},
                actor,
            ),
        ),
        (NotAllowed, lambda: set_staff_active(two["stranger"], False, actor)),
        (NotAllowed, lambda: set_office_active(two["theirs"], False, actor)),
        (AdminError, lambda: save_office(None, {**OFFICE_FORM, "operator": CARITAS}, actor)),
        (
            AdminError,
            lambda: save_service(
                None,
                {"office_id": two["theirs"].id, "name": "x", "slug": "x", "minutes": 30},
                actor,
            ),
        ),
    ]
    for error, call in refusals:
        with pytest.raises(error):
            call()
        db.session.rollback()
    assert db.session.get(Office, two["theirs"].id).active
    assert db.session.get(StaffUser, two["stranger"].id).active
