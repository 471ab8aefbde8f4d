"""Is the database's schema the one this code expects (no pending migrations)?"""

import os
from functools import cache

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "migrations")


@cache
def expected_heads() -> frozenset[str]:
    """The heads of migrations/versions (read once per process: the files do not change)."""
    config = Config()
    config.set_main_option("script_location", os.path.abspath(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def current_heads(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def pending_migrations(connection: Connection) -> str | None:
    """None when the schema is current, else a sentence saying what differs."""
    current, expected = current_heads(connection), expected_heads()
    if current == expected:
        return None
    shown = ", ".join(sorted(current)) or "none (empty database)"
    return f"the database is at migration {shown}, this code needs {', '.join(sorted(expected))}"
