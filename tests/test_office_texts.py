"""Office and service texts in the families' languages: setup file, pages, messages, admin."""

import textwrap

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.offices.models import Office, Service
from booking.offices.texts import clean_translations, text_in
from booking.setup.loader import SetupFileError, parse_setup

OFFICE = {
    "slug": "wp-mitte",
    "kind": "welcome_point",
    "address": "Ratinger Straße, Düsseldorf",
    "operator": "Stadt",
}


def plan_of(office: dict | None = None, service: dict | None = None):
    data = {"office": [{**OFFICE, "name": "Welcome Point Mitte", **(office or {})}]}
    if service is not None:
        data["service"] = [{"slug": "wp-beratung", "office": "wp-mitte", "minutes": 30, **service}]
    return parse_setup(data)


def problems_of(**kwargs) -> str:
    with pytest.raises(SetupFileError) as caught:
        plan_of(**kwargs)
    return "\n".join(caught.value.problems)


def test_a_text_key_takes_a_table_of_languages():
    plan = plan_of(
        office={
            "name": {"de": "Welcome Point Mitte", "ar": "نقطة الترحيب ميته", "tr": "Karşılama"},
            "directions": {"de": "2. Stock", "uk": "2-й поверх"},
        },
        service={
            "name": {"de": "Beratung", "fa": "مشاوره"},
            "description": "Nur Deutsch",
            "please_bring": {"de": ["Pass", "Briefe"], "ru": ["Паспорт", "Письма"]},
        },
    )
    office, service = plan.offices[0], plan.services[0]
    assert office.name == "Welcome Point Mitte" and office.directions == "2. Stock"
    assert office.translations == {
        "name": {"ar": "نقطة الترحيب ميته", "tr": "Karşılama"},
        "directions": {"uk": "2-й поверх"},
    }
    assert service.name == "Beratung" and service.description == "Nur Deutsch"
    assert service.please_bring == ("Pass", "Briefe")
    assert service.translations == {
        "name": {"fa": "مشاوره"},
        "please_bring": {"ru": "Паспорт\nПисьма"},
    }


def test_a_plain_string_is_german_and_has_no_translations():
    plan = plan_of(service={"name": "Beratung", "please_bring": ["Pass"]})
    assert plan.offices[0].name == "Welcome Point Mitte"
    assert plan.offices[0].translations == {} and plan.services[0].translations == {}
    assert plan.services[0].please_bring == ("Pass",)


def test_a_table_without_german_is_refused_naming_office_and_key():
    text = problems_of(office={"name": {"ar": "نقطة", "tr": "Nokta"}})
    assert "[[office]] #1 (wp-mitte)" in text
    assert '"name" needs its German text' in text
    text = problems_of(service={"name": "B", "please_bring": {"tr": ["Pasaport"]}})
    assert "[[service]] #1 (wp-beratung)" in text and '"please_bring" needs its German' in text


def test_unknown_language_codes_are_refused():
    text = problems_of(office={"public_notes": {"de": "Hallo", "xx": "?", "fr": "Bonjour"}})
    assert "[[office]] #1 (wp-mitte)" in text
    assert "\"public_notes\" has unknown language 'xx', 'fr'" in text
    assert "de, en, ar, tr, uk, ru, fa" in text


def test_empty_texts_are_refused_per_language():
    assert '"name.ar" must be a non-empty text' in problems_of(
        office={"name": {"de": "X", "ar": " "}}
    )
    assert '"name" must be a non-empty text' in problems_of(office={"name": ""})
    assert '"name" needs its German text' in problems_of(office={"name": {}})
    text = problems_of(service={"name": "B", "please_bring": {"de": ["Pass"], "tr": []}})
    assert '"please_bring.tr" must be a non-empty list of texts' in text
    text = problems_of(service={"name": {"de": "B", "tr": 3}})
    assert '"name.tr" must be a non-empty text' in text


def test_text_in_falls_back_to_german():
    translations = {"name": {"ar": "اسم"}}
    assert text_in("Name", translations, "name", "ar") == "اسم"
    assert text_in("Name", translations, "name", "tr") == "Name"
    assert text_in("Name", translations, "name", "ar_EG") == "اسم"
    assert text_in("Name", None, "name", None) == "Name"
    assert clean_translations({"name": {"de": "x", "ar": " ", "tr": " T ", "xx": "?"}}) == {
        "name": {"tr": "T"}
    }


SETUP = textwrap.dedent(
    """
    [[office]]
    slug = "wp-mitte"
    kind = "welcome_point"
    name = { de = "Welcome Point Mitte", ar = "Welcome Point Mitte (نقطة الترحيب)" }
    address = "Ratinger Straße, Düsseldorf"
    operator = "Stadt"
    directions = { de = "Eingang im Hof", ar = "المدخل في الفناء" }

    [[service]]
    slug = "wp-beratung"
    office = "wp-mitte"
    name = { de = "Beratung", ar = "استشارة", tr = "Danışmanlık" }
    please_bring = { de = ["Pass"], ar = ["جواز السفر"] }
    minutes = 30
    """
)


def test_loading_stores_the_translations_and_twice_changes_nothing(runner, tmp_path):
    path = tmp_path / "setup.toml"
    path.write_text(SETUP, encoding="utf-8")
    result = runner.invoke(args=["setup", "load", str(path)])
    assert result.exit_code == 0, result.output
    service = db.session.scalar(select(Service).where(Service.slug == "wp-beratung"))
    assert service.name == "Beratung"
    assert service.text_in("name", "tr") == "Danışmanlık"
    assert service.bring_items_in("ar") == ["جواز السفر"]
    assert service.bring_items_in("uk") == ["Pass"]
    office = db.session.scalar(select(Office).where(Office.slug == "wp-mitte"))
    assert office.directions == "Eingang im Hof"
    assert office.text_in("directions", "ar") == "المدخل في الفناء"
    again = runner.invoke(args=["setup", "load", str(path)])
    assert "Nothing to change" in again.output


SEVEN = ["de", "en", "ar", "tr", "uk", "ru", "fa"]


@pytest.fixture
def app(app_factory):
    """The families' seven languages switched on (as issue 10 makes them)."""
    app = app_factory(LANGUAGES=SEVEN)
    with app.app_context():
        yield app


@pytest.fixture
def translated(bookable_service):
    service = bookable_service
    service.please_bring = "Personalausweis"
    service.set_translations(
        {
            "name": {"ar": "استشارة وتقديم الطلب", "en": "Advice and application"},
            "please_bring": {"ar": "بطاقة الهوية"},
        }
    )
    office = service.office
    office.directions = "Eingang im Hof, 2. Stock"
    office.set_translations(
        {"name": {"ar": "مكتب المساعدة"}, "directions": {"ar": "المدخل في الفناء"}}
    )
    db.session.commit()
    return service


def test_office_page_in_arabic_with_german_where_nothing_is_given(client, translated):
    html = client.get("/offices/eingliederungshilfe?lang=ar").get_data(as_text=True)
    assert "<h1>مكتب المساعدة</h1>" in html
    assert "المدخل في الفناء" in html and "Eingang im Hof" not in html
    assert "استشارة وتقديم الطلب" in html and "Beratung und Antragsaufnahme" not in html
    assert "Willi-Becker-Allee 7" in html  # no Arabic address given: the German one


def test_turkish_pages_fall_back_to_german(client, translated):
    html = client.get("/offices/eingliederungshilfe?lang=tr").get_data(as_text=True)
    assert "<h1>Eingliederungshilfe</h1>" in html
    assert "Eingang im Hof, 2. Stock" in html and "المدخل" not in html
    assert "Beratung und Antragsaufnahme" in html
    html = client.get("/book?lang=tr").get_data(as_text=True)
    assert "Beratung und Antragsaufnahme" in html


def test_booking_pages_and_api_in_arabic(app, client, translated):
    html = client.get("/book/beratung-35a?lang=ar").get_data(as_text=True)
    assert "<h1>استشارة وتقديم الطلب</h1>" in html and "مكتب المساعدة" in html
    api = app.test_client()  # no session: the API follows Accept-Language
    offices = api.get("/api/v1/offices", headers={"Accept-Language": "ar"}).get_json()
    assert offices[0]["name"] == "مكتب المساعدة"
    assert offices[0]["services"][0]["name"] == "استشارة وتقديم الطلب"
    german = api.get("/api/v1/offices").get_json()
    assert german[0]["services"][0]["name"] == "Beratung und Antragsaufnahme"


def booked_message(service, language: str):
    from booking.appointments.booking import book_appointment, check_family_details
    from booking.notify.models import OutboxMessage
    from tests.test_slot_engine import DB_NOW, TEN

    family = check_family_details("Familie", "f@example.org", None, language, False, "")
    book_appointment(service, TEN, family, DB_NOW)
    return db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))


def test_the_familys_message_uses_their_language(app, translated):
    message = booked_message(translated, "ar")
    assert "استشارة وتقديم الطلب" in message.subject
    for body in (message.body_text, message.body_html):
        assert "مكتب المساعدة" in body and "المدخل في الفناء" in body
        assert "بطاقة الهوية" in body
        assert "Beratung und Antragsaufnahme" not in body and "Personalausweis" not in body


def test_a_message_in_a_language_without_texts_is_german(app, translated):
    message = booked_message(translated, "uk")
    assert "Beratung und Antragsaufnahme" in message.subject
    assert "Personalausweis" in message.body_text
    assert "Eingang im Hof, 2. Stock" in message.body_text
    assert "بطاقة" not in message.body_text


def admin_login(auth, make_staff):
    from booking.auth.models import Role

    auth.login(make_staff(Role.ADMIN, name="Andrea Admin").email)


def test_admin_form_has_a_field_per_language_named_in_its_own_script(
    client, auth, make_staff, translated
):
    admin_login(auth, make_staff)
    html = client.get(f"/admin/services/{translated.id}/edit").get_data(as_text=True)
    assert '<label for="name" lang="de">Deutsch</label>' in html
    assert '<label for="name__ar" lang="ar">العربية</label>' in html
    assert '<label for="name__tr" lang="tr">Türkçe</label>' in html
    assert '<label for="please_bring__uk" lang="uk">Українська</label>' in html
    assert 'dir="rtl" id="name__ar" lang="ar"' in html and 'dir="rtl" id="name__fa"' in html
    assert 'value="استشارة وتقديم الطلب"' in html  # the stored Arabic name
    assert "بطاقة الهوية</textarea>" in html


def test_admin_edits_translations_german_stays_required(client, auth, make_staff, translated):
    admin_login(auth, make_staff)
    office = translated.office
    form = {
        "name": "Eingliederungshilfe",
        "slug": office.slug,
        "kind": "unit",
        "address": office.address,
        "operator": "Jugendamt",
        "directions": "Eingang im Hof",
        "name__tr": "Entegrasyon yardımı",
        "name__ar": "",
        "directions__fa": "ورودی در حیاط",
    }
    response = client.post(f"/admin/offices/{office.id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert office.text_in("name", "tr") == "Entegrasyon yardımı"
    assert office.text_in("name", "ar") == "Eingliederungshilfe"  # emptied: German again
    assert office.text_in("directions", "fa") == "ورودی در حیاط"
    # A language field left out of the POST keeps its text, as every admin field does.
    assert office.translations == {
        "name": {"tr": "Entegrasyon yardımı"},
        "directions": {"ar": "المدخل في الفناء", "fa": "ورودی در حیاط"},
    }
    refused = client.post(f"/admin/offices/{office.id}/edit", data=dict(form, name=""))
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "Dieses Feld ist erforderlich." in page
    assert 'value="Entegrasyon yardımı"' in page  # what was typed is kept
    db.session.expire_all()
    assert office.name == "Eingliederungshilfe"


def test_admin_edits_a_services_please_bring_per_language(client, auth, make_staff, translated):
    admin_login(auth, make_staff)
    service = translated
    data = {
        "office_id": service.office_id,
        "name": service.name,
        "slug": service.slug,
        "minutes": "45",
        "please_bring": "Pass",
        "please_bring__tr": "Pasaport\n\n  Mektuplar  ",
        "name__ar": "استشارة",
    }
    assert client.post(f"/admin/services/{service.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert service.bring_items_in("tr") == ["Pasaport", "Mektuplar"]
    assert service.bring_items_in("ar") == ["بطاقة الهوية"]  # not sent: kept
    assert service.bring_items_in("uk") == ["Pass"]
    assert service.text_in("name", "ar") == "استشارة"


def test_demo_gives_the_welcome_points_texts_in_all_seven_languages():
    from booking.offices.texts import TEXT_LANGUAGES
    from booking.setup.cli import DEMO_FILE
    from booking.setup.loader import read_setup_file

    plan = read_setup_file(DEMO_FILE)
    others = set(TEXT_LANGUAGES) - {"de"}
    welcome_points = {o.slug: o for o in plan.offices if o.kind == "welcome_point"}
    assert len(welcome_points) == 12
    for office in welcome_points.values():
        for field in ("name", "directions"):
            assert set(office.translations[field]) == others, (office.slug, field)
        assert office.translations["name"]["ar"].startswith(office.name)  # the name on the door
        assert "Düsseldorf" in office.address and "address" not in office.translations
    services = [s for s in plan.services if s.office in welcome_points]
    assert len(services) == 12
    for service in services:
        for field in ("name", "description", "please_bring"):
            assert set(service.translations[field]) == others, (service.slug, field)
        for code in others:  # as many items to bring in every language
            items = service.translations["please_bring"][code].split("\n")
            assert len(items) == len(service.please_bring), (service.slug, code)


def test_callback_form_uses_the_office_and_topic_texts_of_the_language(client, translated):
    html = client.get("/offices/eingliederungshilfe/callback?lang=ar").get_data(as_text=True)
    assert "<bdi>مكتب المساعدة</bdi>" in html
    assert ">استشارة وتقديم الطلب</option>" in html and "Beratung und Antragsaufnahme" not in html


def test_demo_gives_the_35a_units_texts_in_all_seven_languages():
    from booking.offices.texts import TEXT_LANGUAGES
    from booking.setup.cli import DEMO_FILE
    from booking.setup.loader import read_setup_file

    plan = read_setup_file(DEMO_FILE)
    others = set(TEXT_LANGUAGES) - {"de"}
    unit = next(o for o in plan.offices if o.slug == "eingliederungshilfe")
    for field in ("name", "operator", "public_notes"):
        assert set(unit.translations[field]) == others, field
    for code in ("ar", "fa"):  # the legal citation reads left to right inside the Arabic script
        assert "\u2066§ 35a SGB VIII\u2069" in unit.translations["name"][code]
    public = next(s for s in plan.services if s.slug == "beratung-35a")
    for field in ("name", "description", "please_bring"):
        assert set(public.translations[field]) == others, field
    for code in others:
        assert len(public.translations["please_bring"][code].split("\n")) == 3, code
    staff_only = next(s for s in plan.services if s.slug == "hilfeplangespraech-35a")
    assert set(staff_only.translations["name"]) == {"en"}  # staff pages: German and English


def test_the_demo_unit_page_is_in_the_readers_language(app_factory):
    app = app_factory(RATELIMIT_ENABLED=False)
    assert app.test_cli_runner().invoke(args=["setup", "demo"]).exit_code == 0
    client = app.test_client()
    turkish = client.get("/offices/eingliederungshilfe?lang=tr").get_data(as_text=True)
    assert "Entegrasyon yardımı (Eingliederungshilfe, § 35a SGB VIII)" in turkish
    assert "Danışmanlık ve başvuru alımı" in turkish
    assert "Beratung und Antragsaufnahme" not in turkish
    german = client.get("/offices/eingliederungshilfe?lang=de").get_data(as_text=True)
    assert "<h1>Eingliederungshilfe nach § 35a SGB VIII</h1>" in german
