"""Migrations: empty to head and back, and the models match the migrated schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from gateway.config import load_settings
from schema import db
from schema.models import Base


def test_migrated_schema_matches_models(env: dict[str, str]) -> None:
    engine = db.make_engine(load_settings(env).database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(env: dict[str, str]) -> None:
    engine = db.make_engine(load_settings(env).database_url)
    db.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_large_columns_compress_with_lz4_on_postgresql(env: dict[str, str]) -> None:
    """pglz cost the database a quarter of its CPU during imports; lz4 is far cheaper."""
    engine = db.make_engine(load_settings(env).database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("SQLite does not compress values")
    with engine.connect() as conn:
        supported = conn.execute(
            text(
                "SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression'"
                " AND 'lz4' = ANY(enumvals)"
            )
        ).scalar()
        methods = dict(
            conn.execute(
                text(
                    "SELECT c.relname || '.' || a.attname, a.attcompression FROM pg_attribute a"
                    " JOIN pg_class c ON c.oid = a.attrelid"
                    " WHERE (c.relname, a.attname) IN (('inbox', 'raw'), ('messages', 'full_text'),"
                    " ('messages', 'html'), ('messages', 'visible_text'), ('outbox', 'context'))"
                )
            ).all()
        )
    engine.dispose()
    if not supported:
        pytest.skip("this PostgreSQL was built without lz4: the columns keep pglz")
    assert methods == {
        "inbox.raw": "l",
        "messages.full_text": "l",
        "messages.html": "l",
        "messages.visible_text": "l",
        "outbox.context": "l",
    }
