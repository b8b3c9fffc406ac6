"""The database going away: Twilio hears 503 and retries; nothing is lost or doubled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from admin_cli.app import BackgroundGateway
from gateway.config import load_settings
from gateway.runtime import open_runtime
from schema.models import Message
from tests.sms.conftest import TwilioClient, sms_fields
from tests.tcp_proxy import TcpProxy, proxied_database


@pytest.fixture
def proxied_env(sms_env: dict[str, str]) -> Iterator[tuple[dict[str, str], TcpProxy]]:
    with proxied_database(sms_env) as proxied:
        yield proxied


def test_database_down_is_503_for_webhooks_and_health(
    proxied_env: tuple[dict[str, str], TcpProxy],
) -> None:
    env, proxy = proxied_env
    runtime = open_runtime(load_settings(env), migrate=True)
    try:
        with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
            assert gw.http_address is not None
            twilio = TwilioClient(gw.http_address)
            fields = sms_fields("sent while the database is away")
            proxy.cut()
            refused = twilio.post("/twilio/sms", fields)
            assert refused.status_code == 503
            assert "Traceback" not in refused.text
            health = twilio.get("/healthz")
            assert health.status_code == 503
            assert health.json()["database"] == "unreachable"
            proxy.restore()
            assert twilio.post("/twilio/sms", fields).status_code == 200  # Twilio's retry
            assert twilio.get("/healthz").status_code == 200
            assert gw.processor.wait_idle(10)
            twilio.http.close()
        with runtime.sessions() as s:
            texts = list(s.scalars(select(Message.visible_text)))
            assert texts == ["sent while the database is away"]
            assert s.scalar(select(func.count()).select_from(Message)) == 1
    finally:
        runtime.close()


def test_a_database_restart_between_webhooks_refuses_none(
    proxied_env: tuple[dict[str, str], TcpProxy],
) -> None:
    """The listener's connection dies while idle; the next webhook is stored all the same."""
    env, proxy = proxied_env
    runtime = open_runtime(load_settings(env), migrate=True)
    try:
        with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
            assert gw.http_address is not None
            twilio = TwilioClient(gw.http_address)
            assert twilio.post("/twilio/sms", sms_fields("before the restart")).status_code == 200
            assert gw.processor.wait_idle(10)  # the restart is to hit only the idle listener
            proxy.cut()  # breaks every open connection, the listener's among them
            proxy.restore()
            assert twilio.post("/twilio/sms", sms_fields("after the restart")).status_code == 200
            assert gw.processor.wait_idle(10)
            twilio.http.close()
        with runtime.sessions() as s:
            texts = set(s.scalars(select(Message.visible_text)))
            assert texts == {"before the restart", "after the restart"}
    finally:
        runtime.close()
