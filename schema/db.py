"""Engine and session set-up, and schema migration to head."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, inspect, text
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


_ID_BLOCKS = "ticketgw.id_blocks"


def allocate_id(session: Session, model: type[Any]) -> int:
    """A primary key for a new ``model`` row, known before the row is flushed.

    Code that needs a new ticket's or message's id at once (audit values, Message-IDs,
    notification keys) would otherwise flush after every object; with ids handed out in
    advance a whole batch of mails flushes once, as multi-row inserts. PostgreSQL hands out
    a block of the column's own sequence per round trip. SQLite has no sequence: the block
    starts above ``max(id)`` once the transaction holds the database's single write lock,
    so no other writer can take those ids before this transaction ends. Blocks belong to
    the transaction and are dropped at its end, used or not.
    """
    blocks: dict[str, list[int]] = session.info.setdefault(_ID_BLOCKS, {})
    sizes: dict[str, int] = session.info.setdefault(_ID_BLOCKS + ".size", {})
    table = model.__table__
    free = blocks.setdefault(table.name, [])
    if not free:
        # Blocks double in size, so a transaction writing thousands of rows asks a few
        # times while one writing a single row does not burn many ids.
        sizes[table.name] = size = min(2 * sizes.get(table.name, 4), 1024)
        free.extend(reversed(_id_block(session, table, size)))
    return free.pop()


def _id_block(session: Session, table: Any, size: int) -> list[int]:
    pk = next(iter(table.primary_key.columns))
    conn = session.connection()  # not session.execute: that would flush what waits for ids
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, :c)) FROM generate_series(1, :n)"),
            {"t": table.name, "c": pk.name, "n": size},
        )
        return [row[0] for row in rows]
    # Any write takes SQLite's write lock (a no-op one will do) before max() is read.
    conn.execute(text(f"UPDATE {table.name} SET {pk.name} = {pk.name} WHERE 0"))
    top = conn.execute(text(f"SELECT max({pk.name}) FROM {table.name}")).scalar() or 0
    used = session.info.get(_ID_BLOCKS + ".top", {}).get(table.name, 0)
    start = max(top, used) + 1
    session.info.setdefault(_ID_BLOCKS + ".top", {})[table.name] = start + size - 1
    return list(range(start, start + size))


@event.listens_for(Session, "after_transaction_end")
def _drop_id_blocks(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        for key in (_ID_BLOCKS, _ID_BLOCKS + ".top", _ID_BLOCKS + ".size"):
            session.info.pop(key, None)
