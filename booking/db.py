"""Declarative base, constraint naming convention and column types shared by all models."""

import json
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, MetaData, String, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import ColumnElement, coercions, roles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """An instant: aware datetimes in, aware UTC datetimes out, on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        # SQLite keeps no offset; store naive UTC there.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class IdList(TypeDecorator):
    """A list of integer ids as one bound parameter: an array on PostgreSQL, JSON on SQLite
    (for AnyOf)."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        ids = [int(item) for item in value]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class AnyOf(ColumnElement[bool]):
    """`column IN (ids)` with the ids in one parameter of type IdList: `= ANY(array)` on
    PostgreSQL, `IN (SELECT value FROM json_each(?))` on SQLite. An expanding IN
    (`IN (?, ?, …)`) is rendered anew at every execution, which cost a booking more than the
    query itself; this statement is compiled once."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column, ids) -> None:
        self.column = coercions.expect(roles.ExpressionElementRole, column)
        self.ids = ids

    @property
    def _from_objects(self):
        return self.column._from_objects  # a select with only this in WHERE still has its FROM

    def self_group(self, against=None):
        return self  # already a condition: no "= 1" around it where booleans are integers


@compiles(AnyOf)
def _any_of_json(element: AnyOf, compiler, **kw) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608 (compiled parts)


@compiles(AnyOf, "postgresql")
def _any_of_array(element: AnyOf, compiler, **kw) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"


def enum_type(enum_cls, name: str):
    """A string column holding an enum's values, with a CHECK constraint, on every engine."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda cls: [member.value for member in cls],
        create_constraint=True,
        name=name,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # Only SQLite connections carry these pragmas; WAL lets readers run beside one writer.
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    busy_ms = getattr(_sqlite_pragmas, "busy_timeout_ms", 5000)
    # Let SQLAlchemy, not the driver, emit BEGIN: see _sqlite_begin below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def render_migration_item(type_: str, obj, autogen_context):
    """Autogenerate writes UTCDateTime as plain timestamptz: migrations never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """SQLite: plain BEGIN, or BEGIN IMMEDIATE when a writer asked for the lock up front.

    A deferred transaction that reads and then writes can fail with "database is locked"
    when another writer got in between; taking the write lock first makes the
    check-then-insert of a booking wait its turn instead (up to the busy timeout).
    """
    if connection.dialect.name != "sqlite":
        return
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
