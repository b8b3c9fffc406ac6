"""Fixtures: a real database per run (SQLite or PostgreSQL), a fresh schema per test.

``TICKETGW_TEST_DATABASE=sqlite`` (default) or ``postgresql`` picks the backend; ``make test``
runs the suite once with each. For PostgreSQL the run creates its own database on the
server at ``TICKETGW_TEST_PG_URL`` (default: the local socket) and drops it at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gateway.config import load_settings
from gateway.pipeline.batch import ItemOutcome, ingest_batch
from gateway.runtime import Runtime, open_runtime
from schema import db
from schema.models import Base
from workers.transports.twilio_standin import TwilioStandIn

BACKEND = os.environ.get("TICKETGW_TEST_DATABASE", "sqlite")
PG_SERVER_URL = os.environ.get("TICKETGW_TEST_PG_URL", "postgresql+psycopg:///postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"

Ingest = Callable[..., ItemOutcome]

# No per-example deadline: on a loaded, shared 2-core machine one example took 285 ms
# against hypothesis's default of 200. Slowness is measured by bench/, not by tests.
hypothesis_settings.register_profile("ticketgw", deadline=None)
hypothesis_settings.load_profile("ticketgw")


def pytest_report_header() -> str:
    return f"ticketgw test database: {BACKEND}"


def _admin_execute(sql: str) -> None:
    engine = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this run: a SQLite file to copy, or a PostgreSQL database."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        yield str(path)
        return
    if BACKEND != "postgresql":
        pytest.exit(f"TICKETGW_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}", 2)
    name = f"ticketgw_test_{uuid.uuid4().hex[:12]}"
    try:
        _admin_execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        message = f"PostgreSQL not reachable at {PG_SERVER_URL}: {exc}".splitlines()[0]
        if IN_CI:
            pytest.exit(f"FAILED: {message} (CI needs PostgreSQL)", returncode=1)
        pytest.skip(f"NO POSTGRESQL, database tests skipped: {message}")
    url = make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    if BACKEND == "sqlite":
        path = tmp_path / "ticketgw.sqlite3"
        shutil.copyfile(database_template, path)
        return f"sqlite:///{path}"
    engine = create_engine(database_template)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return database_template


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """``TICKETGW_*`` settings for this test, as a subprocess or the CLI would see them."""
    return {
        "TICKETGW_DATA_DIR": str(tmp_path / "data"),
        "TICKETGW_DATABASE_URL": database_url,
        "TICKETGW_SUPPORT_ADDRESS": "support@example.com",
        "TICKETGW_SECRET_KEY": "test-secret-key",
        # serve also listens for HTTP: a free port, never the default 8080
        "TICKETGW_HTTP_LISTEN": "127.0.0.1:0",
    }


@pytest.fixture
def runtime(env: dict[str, str]) -> Iterator[Runtime]:
    """Settings, engine and sessions on the test database, seeded like a fresh install."""
    rt = open_runtime(load_settings(env), migrate=True)
    yield rt
    rt.close()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    """A session whose work the test commits itself (or not)."""
    with runtime.sessions() as s:
        yield s


@pytest.fixture
def ingest(runtime: Runtime) -> Ingest:
    """Store and process one mail (bytes or EmailMessage) in its own transaction."""

    def run(mail: bytes | EmailMessage, source: str = "test") -> ItemOutcome:
        raw = mail if isinstance(mail, bytes) else mail.as_bytes()
        with runtime.transaction() as session:
            [outcome] = ingest_batch(session, runtime.settings, [(raw, source)])
        return outcome

    return run


IngestWith = Callable[[dict[str, str]], tuple[Runtime, Ingest]]


@pytest.fixture
def ingest_with() -> Iterator[IngestWith]:
    """Like ``ingest``, on a runtime opened with settings the test chooses."""
    opened: list[Runtime] = []

    def make(settings_env: dict[str, str]) -> tuple[Runtime, Ingest]:
        rt = open_runtime(load_settings(settings_env), migrate=True)
        opened.append(rt)

        def run(mail: bytes | EmailMessage, source: str = "test") -> ItemOutcome:
            raw = mail if isinstance(mail, bytes) else mail.as_bytes()
            with rt.transaction() as session:
                [outcome] = ingest_batch(session, rt.settings, [(raw, source)])
            return outcome

        return rt, run

    yield make
    for rt in opened:
        rt.close()


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    """The local Twilio stand-in on a free loopback port (``settings_env()`` points at it)."""
    with TwilioStandIn() as standin:
        yield standin
