"""Migrations: empty to head and back, and the models match the migrated schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
