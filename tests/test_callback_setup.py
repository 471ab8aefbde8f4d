"""The setup file's [[office]] takes the callback rules; bad values are refused by name."""

from datetime import time

from sqlalchemy import select

from booking.extensions import db
from booking.offices.models import Office

OFFICE = """
[[office]]
slug = "eingliederungshilfe"
name = "Eingliederungshilfe"
kind = "unit"
address = "Willi-Becker-Allee 7, 40227 Düsseldorf"
operator = "Jugendamt Düsseldorf"
phone = "0211 8992000"
"""


def load(runner, tmp_path, text: str):
    path = tmp_path / "setup.toml"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["setup", "load", str(path)])


def test_callback_rules_from_the_file_and_loading_twice_changes_nothing(runner, tmp_path):
    text = (
        OFFICE + 'callback_due_days = 3\ncallback_due_time = "12:30"\ncallback_max_attempts = 4\n'
    )
    result = load(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    office = db.session.scalar(select(Office))
    assert (office.callback_due_days, office.callback_due_time, office.callback_max_attempts) == (
        3,
        time(12, 30),
        4,
    )
    again = load(runner, tmp_path, text)
    assert "Nothing to change" in again.output


def test_without_the_keys_the_defaults_apply(runner, tmp_path):
    assert load(runner, tmp_path, OFFICE).exit_code == 0
    office = db.session.scalar(select(Office))
    assert (office.callback_due_days, office.callback_due_time, office.callback_max_attempts) == (
        2,
        time(16),
        3,
    )


def test_bad_callback_rules_are_refused_by_name(runner, tmp_path):
    text = (
        OFFICE + 'callback_due_days = 0\ncallback_due_time = "4pm"\ncallback_max_attempts = "3"\n'
    )
    result = load(runner, tmp_path, text)
    assert result.exit_code == 1
    for key in ("callback_due_days", "callback_due_time", "callback_max_attempts"):
        assert key in result.output
    assert db.session.scalar(select(Office)) is None
