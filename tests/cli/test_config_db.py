"""``config show`` and ``db upgrade``."""

from __future__ import annotations

import pytest

from gateway.config import load_settings
from schema import db
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok


def test_config_show_masks_secrets(ticketgw: Ticketgw, env: dict[str, str]) -> None:
    env["TICKETGW_SMTP_RELAY_PASSWORD"] = "hunter2"
    env["TICKETGW_REDIS_URL"] = "redis://user:s3cret@localhost:6379/0"
    table = assert_ok(ticketgw("config", "show")).stdout
    assert "TICKETGW_SUPPORT_ADDRESS" in table
    assert "support@example.com" in table
    for secret in ("hunter2", "s3cret", "test-secret-key"):
        assert secret not in table

    settings = assert_ok(ticketgw("config", "show", "--json")).json()
    assert set(settings) == set(load_settings(env).masked())
    assert settings["smtp_relay_password"] == "****"
    assert settings["secret_key"] == "****"
    assert settings["redis_url"] == "redis://user:****@localhost:6379/0"
    assert settings["smtp_listen"] == "127.0.0.1:2525"


def test_db_upgrade_reaches_head_and_seeds(ticketgw: Ticketgw, env: dict[str, str]) -> None:
    first = assert_ok(ticketgw("db", "upgrade")).stdout
    engine = db.make_engine(env["TICKETGW_DATABASE_URL"])
    try:
        head = db.current_revision(engine)
    finally:
        engine.dispose()
    assert head is not None
    assert first == f"database at revision {head}\n"
    assert assert_ok(ticketgw("db", "upgrade")).stdout == first  # safe to repeat
    queues = assert_ok(ticketgw("queues", "list", "--json")).json()
    assert [q["name"] for q in queues] == ["default"]
    assert len(assert_ok(ticketgw("sla", "list", "--json")).json()) == 4


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://app:hunter2@db.internal/tickets",
        "postgresql+psycopg://app@db.internal/tickets?password=hunter2",
        "postgresql+psycopg://app@db.internal/tickets?sslmode=require&password=hunter2",
        "postgresql+psycopg://app:hunter2@db.internal/tickets?password=hunter2",
        "postgresql+psycopg://app:hun?ter2@db.internal/tickets",
    ],
)
def test_config_show_masks_database_passwords(
    ticketgw: Ticketgw, env: dict[str, str], url: str
) -> None:
    env["TICKETGW_DATABASE_URL"] = url.replace("hun?ter2", "hunter2?")
    table = assert_ok(ticketgw("config", "show")).stdout
    shown = assert_ok(ticketgw("config", "show", "--json")).json()["database_url"]
    assert "hunter2" not in table + shown
    assert "****" in shown
    assert "db.internal/tickets" in shown  # the rest stays readable


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("app:hunter2@db.internal/tickets", "TICKETGW_DATABASE_URL: expected a SQLAlchemy URL"),
        ("postgresql://app:hunter2@db:notaport/t", "TICKETGW_DATABASE_URL: not a valid URL"),
        ("postgresql+nosuch://app:hunter2@db/t", "TICKETGW_DATABASE_URL: unknown database driver"),
        ("postgresql://app@db/t?password=hunter2&x", "TICKETGW_DATABASE_URL"),
    ],
)
def test_invalid_database_url_error_masks_the_password(
    ticketgw: Ticketgw, env: dict[str, str], url: str, message: str
) -> None:
    env["TICKETGW_DATABASE_URL"] = url
    run = ticketgw("tickets", "list")
    if "?password" in url:  # a valid URL to a host that does not exist
        assert run.exit_code == 1
    else:
        assert_fails(run, 2, message)
    assert "hunter2" not in run.stdout + run.stderr
    assert len(run.stderr.splitlines()) == 1


def test_invalid_redis_and_public_urls_are_masked(ticketgw: Ticketgw, env: dict[str, str]) -> None:
    env["TICKETGW_PUBLIC_URL"] = "admin:hunter2@gw.example.com"
    run = ticketgw("config", "show")
    assert_fails(run, 2, "TICKETGW_PUBLIC_URL: expected a URL")
    assert "hunter2" not in run.stderr
    del env["TICKETGW_PUBLIC_URL"]
    env["TICKETGW_REDIS_URL"] = "redis://:hunter2@localhost:6379/0?password=hunter2"
    shown = assert_ok(ticketgw("config", "show", "--json")).json()["redis_url"]
    assert shown == "redis://:****@localhost:6379/0?password=****"
