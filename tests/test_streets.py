"""The street register (Straßenverzeichnis) behind the finder's street search: its file format,
the check command, and the finder page with a register and without one."""

import re
from pathlib import Path

import pytest
from freezegun import freeze_time

from booking.offices.quarters import load_quarters
from booking.offices.streets import REGISTERS, parse_register, read_register
from tests import test_language_crawl
from tests.test_finder import welcome_points  # noqa: F401  (fixture)

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "booking"
    / "offices"
    / "data"
    / "duesseldorf_streets_sample.csv"
)
missing = test_language_crawl.missing

REGISTER = """\
# a comment line
street;quarter;postcode
Bolkerstraße;Altstadt;40213
Königsallee;Stadtmitte;40212
Königsallee;Carlstadt;40212
Grafenberger Allee;Flingern-Nord;40237
Grafenberger Allee;Düsseltal;40237
Kölner Straße;Oberbilk;40227
Kölner Straße;Eller;40227
Stresemannstraße;Stadtmitte;40210
Düsseldorfer Straße;Oberkassel;40545
Am Wehrhahn;Pempelfort;40211
"""


def parse(text: str, encoding: str = "utf-8"):
    return parse_register(text.encode(encoding), load_quarters())


def names(register, typed: str) -> list[str]:
    return [street.name for street in register.search(typed)]


# The file format


def test_semicolons_with_extra_columns_and_a_comment():
    register = parse(REGISTER)
    assert register.problems == []
    assert register.rows == 10
    assert len(register.streets) == 7
    koe = next(s for s in register.streets if s.name == "Königsallee")
    assert [q.name for q in koe.quarters] == ["Carlstadt", "Stadtmitte"]
    assert koe.districts == (1,)
    koeln = next(s for s in register.streets if s.name == "Kölner Straße")
    assert koeln.districts == (3, 8)
    assert register.quarters_covered == 9


def test_commas_german_headers_bom_blank_lines_and_crlf():
    text = '\ufeffStraße,Stadtteil\r\n\r\nBolkerstraße,Altstadt\r\n  \r\n"Luegallee",Oberkassel\r\n'
    register = parse(text)
    assert register.problems == []
    assert [s.name for s in register.streets] == ["Bolkerstraße", "Luegallee"]
    assert parse("Strasse;Stadtteil\nLuegallee;Oberkassel\n").problems == []
    assert parse("STREET ; Quarter \nLuegallee ; Oberkassel\n").streets[0].name == "Luegallee"


def test_repeated_lines_are_merged_and_counted():
    register = parse(
        "street;quarter\nBolkerstraße;Altstadt\nBolkerstraße;Altstadt\nBolkerstr.;Altstadt\n"
    )
    assert register.problems == []
    assert register.duplicates == 2
    assert [(s.name, len(s.quarters)) for s in register.streets] == [("Bolkerstraße", 1)]


def test_quarters_are_matched_in_any_umlaut_spelling():
    text = "street;quarter\nA;Duesseltal\nB;Dusseltal\nC;flingern nord\nD;MÖRSENBROICH\nE;Loerick\n"
    register = parse(text)
    assert register.problems == []
    assert {s.name: s.quarters[0].name for s in register.streets} == {
        "A": "Düsseltal",
        "B": "Düsseltal",
        "C": "Flingern-Nord",
        "D": "Mörsenbroich",
        "E": "Lörick",
    }


def test_unknown_quarters_and_bad_lines_are_reported_with_their_line_and_the_rest_kept():
    text = (
        "street;quarter\n"
        "Bolkerstraße;Altstadt\n"
        "Hauptstraße;Neustadt\n"
        "Luegallee\n"
        ";Bilk\n"
        "Merowingerstraße;Bilk\n"
    )
    register = parse(text)
    assert [str(p) for p in register.problems] == [
        "line 3: unknown quarter 'Neustadt' (street 'Hauptstraße'); the quarters are the 50 of "
        "booking/offices/data/duesseldorf_quarters.toml",
        "line 4: fewer columns than the header: 'Luegallee'",
        "line 5: street or quarter is empty",
    ]
    assert [s.name for s in register.streets] == ["Bolkerstraße", "Merowingerstraße"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n\n", "the file is empty"),
        ("name;district\nBolkerstraße;1\n".encode(), "the header needs a column 'street'"),
        ("street;quarter\nKönigsallee;Stadtmitte\n".encode("cp1252"), "not UTF-8"),
    ],
)
def test_unusable_files_say_why(data, problem):
    register = parse_register(data, load_quarters())
    assert register.streets == ()
    assert problem in str(register.problems[0])


def test_a_missing_file_is_a_problem_not_an_exception(tmp_path):
    register = read_register(tmp_path / "nothere.csv", load_quarters())
    assert "cannot read" in str(register.problems[0])


def test_the_shipped_sample_is_clean_and_says_it_is_a_sample():
    register = read_register(SAMPLE, load_quarters())
    assert register.problems == []
    assert register.duplicates == 0
    assert len(register.streets) == 18
    assert "SAMPLE" in SAMPLE.read_text(encoding="utf-8").splitlines()[0]
    quarters_of = {s.name: [q.name for q in s.quarters] for s in register.streets}
    assert quarters_of["Königsallee"] == ["Carlstadt", "Stadtmitte"]
    assert quarters_of["Benrather Schloßallee"] == ["Benrath"]


# Searching


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("bolker", ["Bolkerstraße"]),
        ("Bolkerstr.", ["Bolkerstraße"]),
        ("bolkerstr", ["Bolkerstraße"]),
        ("Bolkerstrasse 12a", ["Bolkerstraße"]),  # a house number is no part of the name
        ("koenigs", ["Königsallee"]),
        ("Konigsallee", ["Königsallee"]),
        ("KÖNIGS", ["Königsallee"]),
        ("Kölner Str.", ["Kölner Straße"]),
        ("koelner str", ["Kölner Straße"]),
        ("str", ["Stresemannstraße"]),  # "str" is also the beginning of a name
        ("allee", []),  # a later word naming a kind of street finds nothing
        ("wehrhahn", ["Am Wehrhahn"]),  # a later word of the name
        ("düsseldorfer", ["Düsseldorfer Straße"]),
        ("Xanten", []),
        ("  ", []),
        ("شارع", []),
    ],
)
def test_streets_are_found_by_their_first_letters(typed, found):
    assert names(parse(REGISTER), typed) == found


def test_whole_names_come_before_names_found_by_a_later_word():
    register = parse("street;quarter\nBenrather Schloßallee;Benrath\nSchlossstraße;Benrath\n")
    assert names(register, "schloss") == ["Schlossstraße", "Benrather Schloßallee"]
    assert names(register, "Schloß") == ["Schlossstraße", "Benrather Schloßallee"]


# The check command


def test_check_streets_passes_a_clean_file(runner, tmp_path):
    path = tmp_path / "streets.csv"
    path.write_text(REGISTER, encoding="utf-8")
    result = runner.invoke(args=["finder", "check-streets", str(path)])
    assert result.exit_code == 0, result.output
    assert "10 lines read, 7 streets" in result.output
    assert "9 of 50 quarters have a street" in result.output
    assert "3 streets lie in more than one quarter" in result.output
    assert "No problems." in result.output


def test_check_streets_fails_and_lists_every_problem(runner, tmp_path):
    path = tmp_path / "streets.csv"
    path.write_text("Straße;Stadtteil\nA;Atlantis\nB;Bilk\nB;Bilk\nC;Gotham\n", encoding="utf-8")
    result = runner.invoke(args=["finder", "check-streets", str(path)])
    assert result.exit_code == 1
    assert "2 problem(s)" in result.output
    assert "line 2: unknown quarter 'Atlantis'" in result.output
    assert "line 5: unknown quarter 'Gotham'" in result.output
    assert "1 repeated lines (same street and quarter) merged" in result.output


def test_check_streets_fails_on_a_missing_file_and_checks_the_setting(app_factory, tmp_path):
    app = app_factory()
    result = app.test_cli_runner().invoke(args=["finder", "check-streets", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "cannot read" in result.output
    result = app.test_cli_runner().invoke(args=["finder", "check-streets"])
    assert result.exit_code == 2  # no file and no setting: a usage error
    instance = Path(app.instance_path)
    (instance / "streets.csv").write_text(REGISTER, encoding="utf-8")
    configured = app_factory(STREET_REGISTER="streets.csv")  # relative to instance/
    result = configured.test_cli_runner().invoke(args=["finder", "check-streets"])
    assert result.exit_code == 0, result.output
    assert str(instance / "streets.csv") in result.output


# The finder page


@pytest.fixture
def register_file(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    return path


@pytest.fixture
def street_client(app_factory, register_file, welcome_points):  # noqa: F811
    return app_factory(STREET_REGISTER=str(register_file)).test_client()


def result_section(html: str) -> str:
    return html.split('id="mine-heading"')[1].split("</section>")[0]


def test_without_a_register_the_finder_says_nothing_about_streets(client, welcome_points):  # noqa: F811
    html = client.get("/welcome-points/finder?q=bolker").get_data(as_text=True)
    assert "Kein Stadtteil beginnt mit „bolker“" in html
    assert "Straßenverzeichnis" not in html
    assert "Stadtteil oder Straße" not in html
    assert "Straßen sind nicht aufgeführt" in html


def test_one_street_in_one_quarter_leads_to_its_welcome_points(street_client):
    html = street_client.get("/welcome-points/finder?q=Bolkerstr.").get_data(as_text=True)
    result = result_section(html)
    assert "Bolkerstraße gehört zum Stadtbezirk 1" in result
    assert 'href="/welcome-points/finder?quarter=altstadt"' in result
    assert 'href="/offices/wp-ratinger"' in result
    assert 'href="/offices/wp-leopold"' in result
    assert "wp-gerricus" not in result
    assert "<title>Welcome Point für Bolkerstraße" in html
    assert "Gefundene Stadtteile: 0. Gefundene Straßen: 1." in html
    assert 'value="Bolkerstr."' in html
    assert "Straßen sind nicht aufgeführt" not in html


def test_a_street_in_two_quarters_of_one_district_names_both(street_client):
    result = result_section(
        street_client.get("/welcome-points/finder?q=koenigsallee").get_data(as_text=True)
    )
    assert "Königsallee gehört zum Stadtbezirk 1" in result
    assert 'href="/welcome-points/finder?quarter=stadtmitte"' in result
    assert 'href="/welcome-points/finder?quarter=carlstadt"' in result


def test_a_street_in_two_districts_lists_each_quarter_with_its_district(street_client):
    html = street_client.get("/welcome-points/finder?q=Kölner").get_data(as_text=True)
    assert 'id="mine-heading"' not in html
    listed = html.split("Straßen, die mit „Kölner“ beginnen")[1].split("</ul>")[0]
    assert re.search(r'quarter=oberbilk">Oberbilk</a> \(Stadtbezirk 3\)', listed)
    assert re.search(r'quarter=eller">Eller</a> \(Stadtbezirk 8\)', listed)


def test_a_single_quarter_match_still_answers_directly_and_lists_streets_too(street_client):
    html = street_client.get("/welcome-points/finder?q=Dues").get_data(as_text=True)
    assert "Düsseltal gehört zum Stadtbezirk 2" in result_section(html)
    listed = html.split("Straßen, die mit „Dues“ beginnen")[1].split("</ul>")[0]
    assert "Düsseldorfer Straße" in listed
    assert "Gefundene Stadtteile: 1. Gefundene Straßen: 1." in html


def test_quarters_and_streets_together(street_client):
    html = street_client.get("/welcome-points/finder?q=ober").get_data(as_text=True)
    assert 'id="mine-heading"' not in html
    assert "Stadtteile, die mit „ober“ beginnen" in html
    assert "Straßen, die mit" not in html  # no street starts with "ober"
    assert "Gefundene Stadtteile: 2. Gefundene Straßen: 0." in html


def test_no_match_names_streets_too(street_client):
    response = street_client.get("/welcome-points/finder?q=Xanten")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kein Stadtteil und keine Straße beginnt mit „Xanten“" in html
    assert 'aria-invalid="true"' in html
    assert "Gefundene" not in html
    assert html.count("?quarter=") == 50


def test_the_quarter_contract_is_unchanged_with_a_register(street_client):
    html = street_client.get("/welcome-points/finder?quarter=gerresheim").get_data(as_text=True)
    assert "Gerresheim gehört zum Stadtbezirk 7" in result_section(html)
    assert 'aria-current="true">Gerresheim<' in html
    assert "Gefundene" not in html


def test_long_result_lists_are_cut_and_say_so(app_factory, tmp_path, welcome_points):  # noqa: F811
    path = tmp_path / "many.csv"
    path.write_text(
        "street;quarter\n" + "".join(f"Amselweg {n};Bilk\n" for n in range(45)), encoding="utf-8"
    )
    client = app_factory(STREET_REGISTER=str(path)).test_client()
    html = client.get("/welcome-points/finder?q=amsel").get_data(as_text=True)
    assert "Gefundene Straßen: 45." in html
    assert "Nur die ersten 30 Straßen werden gezeigt" in html
    assert html.split('class="street-list"')[1].split("</ul>")[0].count("<li>") == 30


def test_a_changed_file_is_read_again(app_factory, register_file, welcome_points):  # noqa: F811
    client = app_factory(STREET_REGISTER=str(register_file)).test_client()
    assert "Gefundene Straßen: 0." in client.get("/welcome-points/finder?q=ober").get_data(
        as_text=True
    )
    register_file.write_text(REGISTER + "Oberbilker Allee;Oberbilk\n", encoding="utf-8")
    REGISTERS._entries.clear()  # the same second and size could hide the change from the stamp
    assert "Gefundene Straßen: 1." in client.get("/welcome-points/finder?q=ober").get_data(
        as_text=True
    )


def test_a_missing_or_unusable_register_leaves_the_quarter_finder(app_factory, tmp_path, caplog):
    (tmp_path / "bad.csv").write_text("street;quarter\nA;Atlantis\n", encoding="utf-8")
    for setting in (str(tmp_path / "nothere.csv"), str(tmp_path / "bad.csv")):
        client = app_factory(STREET_REGISTER=setting).test_client()
        response = client.get("/welcome-points/finder?q=bilk")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Bilk gehört zum Stadtbezirk 3" in html
        assert "Stadtteil oder Straße" not in html
    assert "street register" in caplog.text
    assert "unknown quarter 'Atlantis'" in caplog.text


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("d\x00ss", 400),
        ("x" * 10_000, 400),
        ("شارع الملك", 200),
        ("\u202ekoenigs", 200),
        ("<script>", 200),
        ("%", 200),
        ("str.", 200),
        ("🙂", 200),
    ],
)
def test_odd_input_never_fails(street_client, query, status):
    response = street_client.get("/welcome-points/finder", query_string={"q": query})
    assert response.status_code == status
    assert "<script>" not in response.get_data(as_text=True)


@freeze_time("2027-03-01 07:00:00")
@pytest.mark.parametrize("lang", ["ar", "tr", "uk", "ru", "fa"])
def test_street_search_is_in_every_family_catalog(street_client, missing, lang):
    for query, status in [
        ("bolker", 200),
        ("Kölner", 200),
        ("Dues", 200),
        ("Xanten", 200),
        ("x" * 100, 400),
    ]:
        response = street_client.get(
            "/welcome-points/finder", query_string={"q": query, "lang": lang}
        )
        assert response.status_code == status
        html = response.get_data(as_text=True)
        assert f'<html lang="{lang}"' in html
        if query == "Kölner" and lang in ("ar", "fa"):
            assert "<bdi>Kölner Straße</bdi>" in html  # a German name inside RTL text
    ours = sorted(message for found, message in missing if found == lang)
    assert ours == [], f"{lang}: looked up but not in the catalog: {ours}"
