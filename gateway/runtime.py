"""The running gateway's shared pieces: settings, engine and session factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway import notify
from gateway.config import PREFIX, Settings, ensure_secret_key, load_settings
from gateway.errors import ConfigError, GatewayError
from gateway.queues import ensure_default_queue
from gateway.sla.policies import ensure_default_policies
from schema import db


class DatabaseUnavailable(GatewayError):
    """The database cannot be reached or is not migrated."""


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work; the notifications its changes cause are written before commit."""
        with db.transaction(self.sessions) as session:
            yield session
            notify.flush(session, self.settings)

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(settings: Settings | None = None, *, migrate: bool = False) -> Runtime:
    """Connect to the configured database; with ``migrate`` bring it to head and seed it.

    Seeding creates the ``default`` queue for ``TICKETGW_SUPPORT_ADDRESS`` and the default
    SLA policies, so a fresh install routes mail and has deadlines with nothing configured.
    """
    settings = ensure_secret_key(settings or load_settings())
    try:
        engine = db.make_engine(settings.database_url, connect_timeout=settings.database_timeout)
    except NoSuchModuleError as exc:
        driver = str(exc).rpartition(":")[2].strip()
        raise ConfigError(f"{PREFIX}DATABASE_URL: unknown database driver {driver!r}") from None
    runtime = Runtime(settings, engine, db.make_sessionmaker(engine))
    try:
        if migrate:
            db.upgrade(engine)
            with runtime.transaction() as session:
                ensure_default_queue(session, settings.support_address)
                ensure_default_policies(session)
        elif not db.is_migrated(engine):
            raise DatabaseUnavailable(
                "the database has no tables yet: run `ticketgw db upgrade` first"
            )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"cannot use the database: {_short(exc)}") from exc
    except GatewayError:
        engine.dispose()
        raise
    return runtime


def _short(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
