"""``config show`` and ``db upgrade``."""

from __future__ import annotations

from gateway.config import load_settings
from schema import db
from tests.cli.conftest import Ticketgw, assert_ok


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
