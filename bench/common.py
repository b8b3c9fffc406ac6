"""What every benchmark needs: a throwaway PostgreSQL database and free loopback ports."""

from __future__ import annotations

import os
import socket
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get("TICKETGW_TEST_PG_URL", "postgresql+psycopg:///postgres")


def _admin(sql: str) -> None:
    engine = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def create_pg_database() -> str:
    """A new empty database on ``TICKETGW_TEST_PG_URL``; returns its SQLAlchemy URL."""
    name = f"ticketgw_bench_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
