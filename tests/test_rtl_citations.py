"""German legal citations inside Arabic and Persian sentences read left to right.

Without an isolate the bidi algorithm turns "(§ 84 SGB X)" in a right-to-left sentence into
"(SGB X 84 §)"; each citation's Latin-script run sits between U+2066 LEFT-TO-RIGHT ISOLATE
and U+2069 POP DIRECTIONAL ISOLATE, e.g. "(⁦§ 35a SGB VIII⁩)" or, where words of the
sentence come between its parts, "⁦§§ 67⁩ وما يليها من ⁦SGB X⁩".
"""

import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[1] / "booking" / "translations"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
ISOLATE_CONTROLS = "\u2066-\u2069"

# A section sign with its number ("§ 35a", "§§ 67"), a code of the Sozialgesetzbuch with its
# book ("SGB VIII"), an article ("Art. 6") and the other laws' abbreviations. A control inside
# a match (e.g. "§⁩ 84") keeps it one match, so a citation cut by an isolate is caught.
CITATION = re.compile(
    rf"§§?[\s{ISOLATE_CONTROLS}]*\d+[a-z]?"
    rf"|\bSGB[\s{ISOLATE_CONTROLS}]+[IVX]+\b"
    rf"|\bArt\.[\s{ISOLATE_CONTROLS}]*\d+"
    r"|\b(?:BGB|GDPR|DSGVO|DS-GVO)\b"
    r"|§"
)


def right_to_left_catalogs() -> list[str]:
    return sorted(
        path.name
        for path in TRANSLATIONS.iterdir()
        if (path / "LC_MESSAGES" / "messages.po").exists()
        and Locale.parse(path.name).character_order == "right-to-left"
    )


def unisolated_citations(text: str) -> list[str]:
    """The citations in text that do not lie, whole, inside one left-to-right isolate."""
    owner = []  # for each character: the innermost open isolate (its index and kind)
    stack = []
    for index, char in enumerate(text):
        if char == PDI:
            owner.append(stack[-1] if stack else None)
            if stack:
                stack.pop()
            continue
        owner.append(stack[-1] if stack else None)
        if char in (LRI, RLI, FSI):
            stack.append((index, char))
    found = []
    for match in CITATION.finditer(text):
        owners = set(owner[match.start() : match.end()])
        if len(owners) != 1 or next(iter(owners)) is None or next(iter(owners))[1] != LRI:
            found.append(match.group())
    return found


def catalog_problems(handle) -> list[tuple[str, list[str]]]:
    problems = []
    for message in read_po(handle):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        for string in strings:
            if bad := unisolated_citations(string or ""):
                problems.append((string, bad))
    return problems


def test_the_right_to_left_catalogs_are_found():
    assert {"ar", "fa"} <= set(right_to_left_catalogs())


@pytest.mark.parametrize("lang", right_to_left_catalogs())
def test_citations_in_right_to_left_catalogs_are_isolated(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        assert catalog_problems(handle) == []


@pytest.mark.parametrize(
    ("text", "unisolated"),
    [
        ("(§ 84 SGB X).", ["§ 84", "SGB X"]),
        (f"({LRI}§ 84 SGB X{PDI}).", []),
        (f"{LRI}§§ 67{PDI} وما يليها من {LRI}SGB X{PDI}", []),
        (f"{LRI}§§ 67a{PDI} و{LRI}67b SGB X{PDI}", []),
        (f"{LRI}§ 84{PDI} SGB X", ["SGB X"]),  # half a citation isolated
        (f"{LRI}§{PDI} 84 SGB X", [f"§{PDI} 84", "SGB X"]),  # an isolate cutting it
        (f"{FSI}§ 84 SGB X{PDI}", ["§ 84", "SGB X"]),  # first-strong is not left to right
        (f"{RLI}{LRI}§ 35 SGB I{PDI}{PDI}", []),  # nested: the innermost counts
        ("المادة 6، الفقرة 1، البند e", []),
    ],
)
def test_the_check_tells_isolated_from_bare_citations(text, unisolated):
    assert unisolated_citations(text) == unisolated
