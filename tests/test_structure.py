"""Layering: which packages may import which (read from the source, not from sys.modules)."""

import ast
from pathlib import Path

BOOKING = Path(__file__).resolve().parent.parent / "booking"
# Modules of business rules and services: they format no labels meant for templates.
DOMAIN_MODULES = [
    *BOOKING.glob("*/services.py"),
    BOOKING / "appointments" / "booking.py",
    BOOKING / "schedule" / "engine.py",
    BOOKING / "privacy" / "retention.py",
]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_services_import_no_template_labels():
    offenders = {
        str(path.relative_to(BOOKING)): sorted(
            name for name in imported_modules(path) if name == "booking.templating"
        )
        for path in DOMAIN_MODULES
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def package_imports(package: str) -> set[str]:
    """The other booking packages that modules of `package` import."""
    found = set()
    for path in (BOOKING / package).rglob("*.py"):
        for name in imported_modules(path):
            parts = name.split(".")
            if parts[0] == "booking" and len(parts) > 1 and parts[1] != package:
                found.add(parts[1])
    return found


def test_appointments_and_notify_do_not_import_each_other():
    """notify renders messages about appointments; appointments only signals what happened."""
    assert "appointments" in package_imports("notify")
    assert "notify" not in package_imports("appointments")


def test_every_appointment_signal_has_a_listener(app):
    from booking.appointments.signals import family_notice, staff_notice

    assert family_notice.receivers and staff_notice.receivers
