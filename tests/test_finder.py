"""Finding the right office and time: the quarter finder, free days of a month, the earliest
free times across all Welcome Points, and link texts that say which office they belong to."""

import re
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from booking.appointments.booking import book_appointment, check_family_details
from booking.auth.models import Role
from booking.extensions import db
from booking.offices.models import OfficeKind
from booking.offices.quarters import MAX_QUERY, load_quarters
from booking.public import overview
from booking.public.overview import DayState, month_grid, parse_month
from booking.schedule.engine import Slot
from booking.schedule.models import Closure, WeeklyHours
from booking.schedule.services import find_free_slots
from booking.setup.cli import DEMO_FILE
from booking.setup.loader import read_setup_file
from tests import test_language_crawl

BERLIN = ZoneInfo("Europe/Berlin")
missing = test_language_crawl.missing  # the crawl's fixture recording lookups a catalog lacks
NOW = "2027-03-01 07:00:00"  # Monday, 08:00 in Düsseldorf


# The quarters file


def test_the_city_has_50_quarters_in_10_districts():
    quarters = load_quarters()
    assert len(quarters.quarters) == 50
    assert len({q.name for q in quarters.quarters}) == 50
    by_district = quarters.by_district()
    assert list(by_district) == list(range(1, 11))
    assert [len(by_district[n]) for n in range(1, 11)] == [6, 3, 8, 4, 6, 4, 5, 4, 8, 2]
    district_of = {q.name: q.district for q in quarters.quarters}
    assert district_of["Altstadt"] == 1
    assert district_of["Düsseltal"] == 2
    assert district_of["Hafen"] == 3
    assert district_of["Lörick"] == 4
    assert district_of["Kaiserswerth"] == 5
    assert district_of["Mörsenbroich"] == 6
    assert district_of["Gerresheim"] == 7
    assert district_of["Unterbach"] == 8
    assert district_of["Benrath"] == 9
    assert district_of["Hellerhof"] == 10
    assert "Amt für Statistik und Wahlen" in quarters.source
    assert len({q.slug for q in quarters.quarters}) == 50
    assert quarters.find("moersenbroich").name == "Mörsenbroich"


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("düss", ["Düsseltal"]),
        ("Dues", ["Düsseltal"]),
        ("DUSS", ["Düsseltal"]),  # typed without the umlaut
        ("Düß", ["Düsseltal"]),  # ß typed for ss
        ("  loerick ", ["Lörick"]),
        ("Mör", ["Mörsenbroich"]),
        ("mor", ["Mörsenbroich"]),
        ("Ober", ["Oberkassel", "Oberbilk"]),
        ("flingern", ["Flingern-Süd", "Flingern-Nord"]),
        ("Flingern Süd", ["Flingern-Süd"]),
        ("süd", ["Flingern-Süd"]),  # the part after the hyphen
        ("xyz", []),
        ("", []),
        ("  - ", []),
    ],
)
def test_quarters_are_found_by_their_first_letters(typed, found):
    assert sorted(q.name for q in load_quarters().search(typed)) == sorted(found)


def test_search_is_by_first_letters_only():
    assert load_quarters().search("bilk") == [load_quarters().find("bilk")]  # not Unterbilk
    assert [q.name for q in load_quarters().search("unterb")] == ["Unterbilk", "Unterbach"]


# The finder page


@pytest.fixture
def welcome_points(make_office):
    """Two Welcome Points in district 1, one in district 7, none in district 10."""
    made = {
        "ratinger": make_office(
            slug="wp-ratinger", name="Welcome Point Ratinger Straße", district=1
        ),
        "leopold": make_office(slug="wp-leopold", name="Welcome Point Leopoldstraße", district=1),
        "gerricus": make_office(slug="wp-gerricus", name="Welcome Point Gerricusplatz", district=7),
    }
    make_office(slug="unit-1", name="Eingliederungshilfe", kind=OfficeKind.UNIT, district=10)
    return made


def test_finder_lists_every_quarter_as_a_link(client, welcome_points):
    response = client.get("/welcome-points/finder")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(re.findall(r'href="/welcome-points/finder\?quarter=[a-z-]+"', html)) == 50
    assert "Amt für Statistik und Wahlen" in html
    assert 'id="mine-heading"' not in html
    assert 'class="error"' not in html


def test_choosing_a_quarter_leads_to_the_welcome_point_of_its_district(client, welcome_points):
    html = client.get("/welcome-points/finder?quarter=gerresheim").get_data(as_text=True)
    result = html.split('id="mine-heading"')[1].split("</section>")[0]
    assert "Stadtbezirk 7" in result
    assert 'href="/offices/wp-gerricus"' in result
    assert "wp-ratinger" not in result
    assert "<title>Welcome Point für Gerresheim" in html


def test_a_district_with_two_welcome_points_shows_both(client, welcome_points):
    result = client.get("/welcome-points/finder?quarter=pempelfort").get_data(as_text=True)
    result = result.split('id="mine-heading"')[1].split("</section>")[0]
    assert 'href="/offices/wp-ratinger"' in result
    assert 'href="/offices/wp-leopold"' in result
    assert "wp-gerricus" not in result


def test_a_district_without_welcome_point_says_so(client, welcome_points):
    html = client.get("/welcome-points/finder?quarter=garath").get_data(as_text=True)
    result = html.split('id="mine-heading"')[1].split("</section>")[0]
    assert "noch keinen Welcome Point" in result
    assert "/offices/" not in result  # not the unit of district 10
    assert 'href="/welcome-points/earliest"' in result


def test_one_search_match_answers_directly(client, welcome_points):
    html = client.get("/welcome-points/finder", query_string={"q": "Dues"}).get_data(as_text=True)
    assert "Düsseltal gehört zum Stadtbezirk 2" in html
    assert 'value="Dues"' in html  # the search keeps what was typed


def test_several_matches_are_offered_as_links(client, welcome_points):
    html = client.get("/welcome-points/finder?q=ober").get_data(as_text=True)
    assert 'id="mine-heading"' not in html
    listed = html.split("Stadtteile, die mit „ober“ beginnen")[1].split("</ul>")[0]
    assert 'href="/welcome-points/finder?quarter=oberkassel"' in listed
    assert 'href="/welcome-points/finder?quarter=oberbilk"' in listed


def test_no_match_is_explained_and_the_list_stays(client, welcome_points):
    response = client.get("/welcome-points/finder?q=Xanten")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kein Stadtteil beginnt mit „Xanten“" in html
    assert 'aria-invalid="true"' in html
    assert html.count("?quarter=") == 50


def test_empty_search_is_no_error(client, welcome_points):
    html = client.get("/welcome-points/finder?q=+++").get_data(as_text=True)
    assert 'class="error"' not in html
    assert 'id="mine-heading"' not in html


def test_control_characters_and_unknown_quarters_are_refused_quietly(client, welcome_points):
    assert client.get("/welcome-points/finder?q=d%00ss").status_code == 400
    html = client.get("/welcome-points/finder?quarter=atlantis").get_data(as_text=True)
    assert 'id="mine-heading"' not in html


def test_very_long_input_is_refused_with_its_limit_and_kept(client, welcome_points):
    typed = "Düsseltal" * 20
    response = client.get("/welcome-points/finder", query_string={"q": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"höchstens {MAX_QUERY} Buchstaben" in html
    assert f'value="{typed}"' in html
    assert 'id="mine-heading"' not in html


def test_typed_markup_is_shown_as_text(client, welcome_points):
    html = client.get("/welcome-points/finder?q=<b>x").get_data(as_text=True)
    assert "<b>x" not in html
    assert "&lt;b&gt;x" in html


# Free days of a month


@pytest.fixture
def service(bookable_service):
    """Thursdays 09–12, 45 + 15 minutes: 09:00, 10:00, 11:00; horizon into June."""
    bookable_service.horizon_days = 100
    db.session.commit()
    return bookable_service


def marks(html: str) -> dict[int, str]:
    """Day of the month -> the state the table shows."""
    cells = re.findall(r'<td class="day-(\w+)">.*?<span aria-hidden="true">(\d+)</span>', html)
    return {int(day): state for state, day in cells}


def day_links(html: str) -> list[str]:
    return re.findall(r'href="(/book/beratung-35a\?week=[^"]+)"', html)


@freeze_time(NOW)
def test_free_days_match_the_slot_engine(client, service, app):
    html = client.get("/book/beratung-35a/days").get_data(as_text=True)
    assert "März 2027: 4 Tage mit freien Terminen" in html
    now = datetime(2027, 3, 1, 7, tzinfo=UTC)
    for day, state in marks(html).items():
        on_day = find_free_slots(service, date(2027, 3, day), date(2027, 3, day), now)
        assert (state == "free") == bool(on_day), day
    free = [day for day, state in marks(html).items() if state == "free"]
    assert free == [4, 11, 18, 25]
    assert "Donnerstag, 4. März 2027: 3 freie Termine" in html
    assert day_links(html) == [
        f"/book/beratung-35a?week=2027-03-{day:02d}#day-2027-03-{day:02d}" for day in free
    ]
    week = client.get("/book/beratung-35a?week=2027-03-11").get_data(as_text=True)
    assert 'id="day-2027-03-11"' in week


@freeze_time(NOW)
def test_one_slot_computation_for_the_whole_horizon(client, service, monkeypatch):
    calls = []
    real = overview.free_slots

    def counting(*args, **kwargs):
        calls.append(args[1:3])
        return real(*args, **kwargs)

    monkeypatch.setattr(overview, "free_slots", counting)
    client.get("/book/beratung-35a/days?month=2027-04")
    assert calls == [(date(2027, 3, 1), date(2027, 6, 9))]


@freeze_time(NOW)
def test_holidays_and_closures_are_closed_not_free(client, service):
    db.session.add(
        Closure(
            office_id=service.office_id,
            first_day=date(2027, 5, 20),
            last_day=date(2027, 5, 20),
            reason="Betriebsausflug",
        )
    )
    html = client.get("/book/beratung-35a/days?month=2027-05").get_data(as_text=True)
    days = marks(html)
    assert days[6] == "closed"  # Christi Himmelfahrt
    assert days[27] == "closed"  # Fronleichnam
    assert days[20] == "closed"
    assert days[13] == "free"
    assert days[1] == "closed"  # Tag der Arbeit (a Saturday, still a holiday)
    assert "geschlossen (Feiertag: Christi Himmelfahrt)" in html
    assert "Betriebsausflug" in html
    # Every other language names the holiday in its own words (gettext; the library has few).
    arabic = client.get("/book/beratung-35a/days?month=2027-05&lang=ar").get_data(as_text=True)
    assert "(عطلة رسمية: عيد الصعود)" in arabic
    assert "Christi Himmelfahrt" not in arabic
    english = client.get("/book/beratung-35a/days?month=2027-05&lang=en").get_data(as_text=True)
    assert "(public holiday: Ascension Day)" in english
    ukrainian = client.get("/book/beratung-35a/days?month=2027-05&lang=uk").get_data(as_text=True)
    assert "Вознесіння Господнє" in ukrainian
    assert [link[-2:] for link in day_links(html)] == ["13"]


@freeze_time(NOW)
def test_daylight_saving_month_counts_berlin_days(client, service):
    html = client.get("/book/beratung-35a/days?month=2027-04").get_data(as_text=True)
    days = marks(html)
    assert [d for d, state in days.items() if state == "free"] == [1, 8, 15, 22, 29]
    assert "Donnerstag, 1. April 2027: 3 freie Termine" in html
    # The pure grid: a slot at 00:30 Berlin on the night of the switch belongs to that day.
    after = datetime(2027, 3, 29, 0, 30, tzinfo=BERLIN)  # 2027-03-28 22:30 UTC
    before = datetime(2027, 3, 28, 0, 30, tzinfo=BERLIN)  # 2027-03-27 23:30 UTC
    slots = [Slot(int(t.timestamp()), int(t.timestamp()) + 1800, (1,)) for t in (before, after)]
    grid = month_grid(date(2027, 3, 1), slots, {}, date(2027, 3, 1), date(2027, 3, 31))
    free = [d.day.day for week in grid for d in week if d and d.state == DayState.FREE]
    assert free == [28, 29]


@freeze_time(NOW)
def test_a_fully_booked_day_is_not_marked(client, service):
    family = check_family_details("Familie Rauch", "rauch@example.org", None, "de", False, "")
    others = check_family_details("Familie Novak", "novak@example.org", None, "de", False, "")
    now = datetime(2027, 3, 1, 7, tzinfo=UTC)
    for hour, who in ((9, family), (10, family), (11, others)):
        book_appointment(service, datetime(2027, 3, 11, hour, tzinfo=BERLIN), who, now)
    db.session.commit()
    html = client.get("/book/beratung-35a/days").get_data(as_text=True)
    assert marks(html)[11] == "none"
    assert "Donnerstag, 11. März 2027: keine freien Termine" in html
    assert not any("2027-03-11" in link for link in day_links(html))
    assert marks(html)[18] == "free"


@freeze_time(NOW)
def test_the_month_follows_the_earliest_free_time_and_stays_in_the_horizon(client, service):
    db.session.add(
        Closure(
            office_id=service.office_id,
            first_day=date(2027, 3, 1),
            last_day=date(2027, 3, 31),
            reason="Umbau",
        )
    )
    db.session.commit()
    html = client.get("/book/beratung-35a/days").get_data(as_text=True)
    assert "April 2027" in html.split("<caption>")[1]
    assert 'month=2027-03"' in html and 'month=2027-05"' in html
    for asked, shown in (
        ("2026-01", "März 2027"),
        ("2031-12", "Juni 2027"),
        ("13-2027", "April 2027"),
    ):
        page = client.get(f"/book/beratung-35a/days?month={asked}").get_data(as_text=True)
        assert page.split("<caption>")[1].startswith(shown), asked
    last = client.get("/book/beratung-35a/days?month=2027-06").get_data(as_text=True)
    assert "month=2027-07" not in last
    assert marks(last)[10] == "outside"  # beyond the 100 days


def test_month_parameter_parsing():
    assert parse_month("2027-03") == date(2027, 3, 1)
    for bad in (None, "", "2027-13", "2027-3", "２０２７-03", "2027-00", "0000-01", "2027/03"):
        assert parse_month(bad) is None, bad


def test_free_days_of_unknown_or_staff_only_services_are_404(client, service):
    assert client.get("/book/nothing/days").status_code == 404
    service.public = False
    db.session.commit()
    assert client.get("/book/beratung-35a/days").status_code == 404


# Earliest free times across all Welcome Points


def welcome_point_service(make_office, make_service, make_staff, name, district, weekday, start):
    office = make_office(slug=f"wp-{district}", name=name, district=district)
    service = make_service(office, slug=f"wp-{district}-beratung", name="Beratung", minutes=30)
    if weekday is not None:
        user = make_staff(Role.CASEWORKER, offices=[office])
        user.services = [service]
        db.session.add(
            WeeklyHours(
                staff_id=user.id,
                office_id=office.id,
                weekday=weekday,
                start_time=start,
                end_time=time(start.hour + 2),
            )
        )
        db.session.commit()
    return service


@freeze_time(NOW)
def test_earliest_times_across_welcome_points_soonest_first(
    client, make_office, make_service, make_staff, bookable_service
):
    friday = welcome_point_service(make_office, make_service, make_staff, "WP Eller", 8, 4, time(9))
    wednesday = welcome_point_service(
        make_office, make_service, make_staff, "WP Bilk", 3, 2, time(14)
    )
    welcome_point_service(make_office, make_service, make_staff, "WP Garath", 10, None, None)
    closed = welcome_point_service(make_office, make_service, make_staff, "WP Rath", 6, 2, time(9))
    closed.office.active = False
    db.session.commit()
    html = client.get("/welcome-points/earliest").get_data(as_text=True)
    order = re.findall(r'<h2><a href="/offices/([\w-]+)">', html)
    assert order == ["wp-3", "wp-8", "wp-10"]  # Wednesday 14:00, Friday 09:00, none
    assert "WP Rath" not in html and "Eingliederungshilfe" not in html
    times = re.findall(r'href="/book/([\w-]+)/details\?start=([^"]+)"', html)
    assert times[:3] == [
        (wednesday.slug, "2027-03-03T14:00:00%2B01:00"),
        (wednesday.slug, "2027-03-03T14:30:00%2B01:00"),
        (wednesday.slug, "2027-03-03T15:00:00%2B01:00"),
    ]
    assert times[3] == (friday.slug, "2027-03-05T09:00:00%2B01:00")
    garath = html.split('href="/offices/wp-10"')[1]
    assert "Zurzeit keine freien Termine." in garath
    assert 'href="/offices/wp-10/callback?topic=wp-10-beratung"' in garath


# Link texts say which office they belong to


class Links(HTMLParser):
    """Each link's accessible text (aria-label, else its text without aria-hidden parts)."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col", "area"}

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.stack: list[bool] = []  # hidden flags of open elements
        self.current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.current = {"href": attrs["href"], "text": [], "label": attrs.get("aria-label")}
        if tag not in self.VOID:
            hidden = attrs.get("aria-hidden") == "true" or (self.stack and self.stack[-1])
            self.stack.append(bool(hidden))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack:
            self.stack.pop()
        if tag == "a" and self.current is not None:
            text = self.current["label"] or "".join(self.current["text"])
            self.links.append((" ".join(text.split()), self.current["href"]))
            self.current = None

    def handle_data(self, data):
        if self.current is not None and not (self.stack and self.stack[-1]):
            self.current["text"].append(data)


def accessible_links(html: str) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.links


def assert_distinct(html: str, page: str) -> None:
    targets: dict[str, set[str]] = {}
    for text, href in accessible_links(html):
        targets.setdefault(text.casefold(), set()).add(href)
    shared = {text: hrefs for text, hrefs in targets.items() if len(hrefs) > 1}
    assert shared == {}, f"{page}: one link text, several targets"


def test_the_link_checker_sees_what_a_screen_reader_reads():
    html = (
        '<a href="/a">Beratung<span class="visually-hidden"> – A</span></a>'
        '<a href="/b"><span aria-hidden="true">3</span><span>Third</span></a>'
        '<a href="/c" aria-label="Label">x</a>'
    )
    assert accessible_links(html) == [("Beratung – A", "/a"), ("Third", "/b"), ("Label", "/c")]
    with pytest.raises(AssertionError):
        assert_distinct('<a href="/a">Beratung</a><a href="/b">Beratung</a>', "test")


@pytest.fixture
def demo(app_factory):
    app = app_factory(RATELIMIT_ENABLED=False)
    result = app.test_cli_runner().invoke(args=["setup", "demo"])
    assert result.exit_code == 0, result.output
    return app


def test_no_two_links_share_a_text_on_the_office_pages(demo):
    client = demo.test_client()
    with demo.app_context():
        slugs = [o.slug for o in read_setup_file(DEMO_FILE).offices]
    assert sum("welcome-point" in slug for slug in slugs) == 12
    pages = ["/", "/book", "/welcome-points/earliest", "/welcome-points/finder"]
    pages += [f"/offices/{slug}" for slug in slugs[:3]]
    for page in pages:
        for lang in ("de", "en", "ar"):
            args = {"lang": lang, "quarter": "altstadt"} if "finder" in page else {"lang": lang}
            response = client.get(page, query_string=args)
            assert response.status_code == 200, page
            assert_distinct(response.get_data(as_text=True), page)
    office_list = client.get("/book?lang=de").get_data(as_text=True)
    beratung = [t for t, href in accessible_links(office_list) if href.startswith("/book/welcome")]
    assert len(beratung) == 12
    assert "Beratung: Wohnen, Arbeit, Schule, Studium – Welcome Point Gerricusplatz" in beratung


def test_no_two_links_share_a_text_on_the_staff_start_page(demo):
    client = demo.test_client()
    admin = next(s for s in read_setup_file(DEMO_FILE).staff if s.role == "admin" and s.password)
    response = client.post("/login", data={"email": admin.email, "password": admin.password})
    assert response.status_code in (302, 303)
    html = client.get("/staff/").get_data(as_text=True)
    assert html.count("Warteschlange") >= 12
    assert_distinct(html, "/staff/")


def test_welcome_points_of_the_demo_cover_every_district():
    offices = read_setup_file(DEMO_FILE).offices
    districts = {o.district for o in offices if o.kind == "welcome_point"}
    assert districts == set(range(1, 11))


# Every family language


@freeze_time(NOW)
@pytest.mark.parametrize("lang", ["ar", "tr", "uk", "ru", "fa"])
def test_finder_pages_are_in_every_family_catalog(app, service, welcome_points, missing, lang):
    client = app.test_client()
    pages = [
        ("/welcome-points/finder", 200),
        ("/welcome-points/finder?quarter=gerresheim", 200),
        ("/welcome-points/finder?quarter=garath", 200),
        ("/welcome-points/finder?q=ober", 200),
        ("/welcome-points/finder?q=Xanten", 200),
        (f"/welcome-points/finder?q={'x' * (MAX_QUERY + 1)}", 400),
        ("/welcome-points/earliest", 200),
        ("/book/beratung-35a/days", 200),
        ("/book/beratung-35a/days?month=2027-05", 200),
        ("/book", 200),
    ]
    for path, status in pages:
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}lang={lang}")
        assert response.status_code == status, path
        assert f'<html lang="{lang}"' in response.get_data(as_text=True)
    ours = sorted(message for found, message in missing if found == lang)
    assert ours == [], f"{lang}: looked up but not in the catalog: {ours}"


@freeze_time(NOW)
def test_persian_pages_point_arrows_and_join_date_and_time_the_persian_way(client, service):
    days = client.get("/book/beratung-35a/days?lang=fa").get_data(as_text=True)
    # Right to left the later month lies to the left: its arrow points left.
    assert re.search(r'month=2027-04">[^<]+ ←</a>', days)
    assert "2027, 10:00" not in days  # the date and the time joined by CLDR, not ", "
    assert "<bdi>Eingliederungshilfe</bdi>\u060c <bdi>" in days
    week = client.get("/book/beratung-35a?week=2027-03-08&lang=fa").get_data(as_text=True)
    assert re.search(r'week=2027-03-01">→ [^<]+</a>', week)
    assert re.search(r'week=2027-03-15">[^<]+ ←</a>', week)
    german = client.get("/book/beratung-35a?week=2027-03-08&lang=de").get_data(as_text=True)
    assert re.search(r'week=2027-03-01">← [^<]+</a>', german)
    assert re.search(r'week=2027-03-15">[^<]+ →</a>', german)


def test_every_nrw_holiday_has_a_name_in_every_language(app):
    from flask_babel import force_locale

    from booking.public.labels import HOLIDAY_NAMES, holiday_name
    from booking.schedule.holidays import public_holidays

    german = set(public_holidays(date(2026, 1, 1), date(2040, 12, 31)).values())
    assert german == set(HOLIDAY_NAMES)  # a new holiday of the library would stay German
    with app.test_request_context():
        with force_locale("de"):
            assert {holiday_name(name) for name in german} == german  # German gives them back
        for lang in ("en", "ar", "tr", "uk", "ru", "fa"):
            with force_locale(lang):
                assert not {holiday_name(name) for name in german} & german, lang
        with force_locale("fa"):
            assert holiday_name("Reformationstag") == "Reformationstag"  # unknown: as given
