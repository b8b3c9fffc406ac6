"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, MetaData, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from schema.text import safe_data, safe_json, safe_text

# Stable constraint names let Alembic's batch mode rebuild SQLite tables and drop
# constraints by name on PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC datetime in Python.

    SQLite has no time zones and hands back naive values; normalising here means the
    domain never compares naive with aware datetimes, whichever database runs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class SafeString(TypeDecorator[str]):
    """VARCHAR that never receives NUL or a lone surrogate (see :mod:`schema.text`).

    Parameters of queries go through it too, so looking up a Message-ID with a NUL in it
    finds nothing instead of failing the statement.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else safe_text(value)


class SafeText(SafeString):
    """TEXT, with the same guarantee as :class:`SafeString`."""

    impl = Text
    cache_ok = True


class SafeJSON(TypeDecorator[Any]):
    """JSON whose strings (keys and values) get the same guarantee as :class:`SafeString`."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return safe_data(value)

    def dumps(self, value: Any) -> str:
        """The cleaned value as JSON text, for a bulk load (``schema.db``) that writes text."""
        return safe_json(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


def choice(*values: str, name: str) -> Enum:
    """A closed set of strings, stored as VARCHAR with a CHECK constraint.

    Not a native PostgreSQL enum: those need their own migrations to grow, and the same
    model must run on SQLite.
    """
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)
