from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, inspect, text
from sqlalchemy.schema import CreateTable

from booking.extensions import db


def schema_diff() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def test_migrations_build_exactly_the_models(app):
    db.session.remove()
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert schema_diff() == []


def model_check_constraints() -> dict[str, set[str]]:
    """CHECK constraints the models declare (named by the naming convention), per table."""
    found: dict[str, set[str]] = {}
    for table in db.metadata.sorted_tables:
        # Compiling the table attaches the CHECK constraints that enum types carry.
        CreateTable(table).compile(dialect=db.engine.dialect)
        found[table.name] = {
            str(c.name) for c in table.constraints if isinstance(c, CheckConstraint)
        }
    return found


def test_migrations_build_the_models_check_constraints(app):
    """Autogenerate does not compare CHECK constraints: compare their names on both engines."""
    inspector = inspect(db.engine)
    for table, expected in model_check_constraints().items():
        actual = {c["name"] for c in inspector.get_check_constraints(table) if c.get("name")}
        assert actual == expected, table


def test_every_model_table_is_migrated(app):
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
