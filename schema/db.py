"""Engine and session set-up, and schema migration to head."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    WAL lets the listener commit inbox rows while a worker reads; the busy timeout turns
    short write contention into waiting instead of "database is locked" errors.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (head by default); safe to run repeatedly."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def is_migrated(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or ``None`` before the first migration."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def insert_ignoring_conflict(
    session: Session, model: type[Any], values: dict[str, Any], unique: str | Sequence[str]
) -> Any | None:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING <primary key>``, as Core.

    One round trip where a look-up, a savepoint and an insert took four, and just as safe
    against a concurrent twin. Returns the new row's primary key, or ``None`` when the
    unique key (one column, or several for a composite key) was taken. Core on the table,
    not the ORM: no identity-map bookkeeping and no autoflush, which matters on the per-mail
    hot path.
    """
    table = model.__table__
    columns = [unique] if isinstance(unique, str) else list(unique)
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[table.c[name] for name in columns])
        .returning(*table.primary_key.columns)
    )
    return session.execute(stmt).scalar_one_or_none()
