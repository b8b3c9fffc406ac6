"""The live HTTP listener: signatures, the durable inbox, duplicates, limits, health."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from admin_cli.app import Gateway
from gateway.runtime import Runtime
from gateway.sms.form import read_form
from schema.models import InboxItem, Message, Ticket
from tests.sms.conftest import (
    CUSTOMER,
    PUBLIC_URL,
    TwilioClient,
    signature,
    sms_fields,
)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _inbox_count(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(InboxItem)) or 0


def test_a_signed_sms_is_stored_then_answered_with_empty_twiml(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    fields = sms_fields("My router blinks red since this morning")
    sid = dict(fields)["MessageSid"]
    response = webhooks.post("/twilio/sms", fields)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    with sms_runtime.sessions() as s:
        item = s.scalars(select(InboxItem)).one()
        assert (item.channel, item.source, item.dedupe_key) == ("sms", "twilio", f"sms:{sid}")
        assert dict(read_form(item.raw))["Body"] == "My router blinks red since this morning"
    assert sms_gateway.processor.wait_idle(10)
    with sms_runtime.sessions() as s:
        ticket = s.scalars(select(Ticket)).one()
        message = s.scalars(select(Message)).one()
        assert (ticket.channel, ticket.subject) == (
            "sms",
            "My router blinks red since this morning",
        )
        assert ticket.contact.identity("phone").value == CUSTOMER
        assert (message.channel, message.sender, message.sms_sid) == ("sms", CUSTOMER, sid)
        assert s.get(InboxItem, 1).status == "done"


def test_missing_or_wrong_signature_is_403_and_stores_nothing(
    webhooks: TwilioClient, sms_runtime: Runtime
) -> None:
    fields = sms_fields("hello")
    assert webhooks.post("/twilio/sms", fields, sign=False).status_code == 403
    assert webhooks.post("/twilio/sms", fields, token="another-accounts-token").status_code == 403
    # Twilio's signature for these fields, on a body changed on the way.
    sig = signature(PUBLIC_URL + "/twilio/sms", fields)
    response = webhooks.http.post(
        webhooks.base + "/twilio/sms",
        data=[(k, "give me a refund" if k == "Body" else v) for k, v in fields],
        headers={"X-Twilio-Signature": sig},
        timeout=20,
    )
    assert response.status_code == 403
    assert "Traceback" not in response.text
    assert _inbox_count(sms_runtime) == 0
    assert webhooks.post("/twilio/sms", fields).status_code == 200  # the genuine one
    assert _inbox_count(sms_runtime) == 1


def test_the_public_url_is_checked_not_the_one_seen_behind_the_proxy(
    webhooks: TwilioClient, sms_runtime: Runtime
) -> None:
    # Signed for the address this process listens on: what a forged request would sign.
    seen = f"{webhooks.base}/twilio/sms"
    assert webhooks.post("/twilio/sms", sms_fields("a"), signed_for=seen).status_code == 403
    # Signed for another public host, or without the proxy's path prefix.
    for url in ("https://evil.example.net/gw/twilio/sms", "https://support.example.com/twilio/sms"):
        assert webhooks.post("/twilio/sms", sms_fields("b"), signed_for=url).status_code == 403
    # Twilio signs with or without the default port: both are the same public URL.
    with_port = "https://support.example.com:443/gw/twilio/sms"
    assert webhooks.post("/twilio/sms", sms_fields("c"), signed_for=with_port).status_code == 200
    assert _inbox_count(sms_runtime) == 1


def test_a_replayed_or_redelivered_sms_is_one_message(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    fields = sms_fields("Is my order 4411 shipped?")
    for _ in range(3):
        response = webhooks.post("/twilio/sms", fields)
        assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    assert sms_gateway.processor.wait_idle(10)
    with sms_runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboxItem)) == 1
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_bad_requests_get_short_answers_without_tracebacks(
    webhooks: TwilioClient, sms_runtime: Runtime
) -> None:
    assert webhooks.get("/twilio/sms").status_code == 405
    assert webhooks.get("/nowhere").status_code == 404
    no_sid = [(k, v) for k, v in sms_fields("x") if k not in ("MessageSid", "SmsSid")]
    response = webhooks.post("/twilio/sms", no_sid)
    assert response.status_code == 400
    huge = sms_fields("x" * 70_000)
    response = webhooks.post("/twilio/sms", huge)
    assert response.status_code == 413
    json_body = webhooks.http.post(
        webhooks.base + "/twilio/sms",
        data=json.dumps({"Body": "x"}),
        headers={"Content-Type": "application/json", "X-Twilio-Signature": "x"},
        timeout=20,
    )
    assert json_body.status_code == 415
    for r in (response, json_body):
        assert "Traceback" not in r.text
        assert "File " not in r.text
    assert _inbox_count(sms_runtime) == 0


def test_no_auth_token_refuses_every_webhook(env: dict[str, str]) -> None:
    from admin_cli.app import BackgroundGateway
    from gateway.config import load_settings
    from gateway.runtime import open_runtime

    runtime = open_runtime(load_settings({**env, "TICKETGW_SMTP_LISTEN": "127.0.0.1:0"}))
    try:
        with BackgroundGateway(runtime) as gw:
            assert gw.http_address is not None
            client = TwilioClient(gw.http_address, public_url=f"http://{gw.http_address[0]}")
            assert client.post("/twilio/sms", sms_fields("hi")).status_code == 403
            client.http.close()
    finally:
        runtime.close()


def test_healthz_reports_database_and_broker(webhooks: TwilioClient) -> None:
    response = webhooks.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok (in-process)"}


def test_non_gsm_text_is_kept_exactly(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    text = "Привет! Доставка не пришла 😞 — заказ №77"
    assert webhooks.sms(text, sender="+79161234567").status_code == 200
    assert sms_gateway.processor.wait_idle(10)
    with sms_runtime.sessions() as s:
        message = s.scalars(select(Message)).one()
        assert message.visible_text == text
        assert message.sender == "+79161234567"


def test_a_sender_that_is_no_phone_number_is_quarantined(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    assert webhooks.sms("WIN A PRIZE", sender="PROMO").status_code == 200
    assert sms_gateway.processor.wait_idle(10)
    with sms_runtime.sessions() as s:
        item = s.scalars(select(InboxItem)).one()
        assert (item.status, item.failed_step) == ("failed", "parse")
        assert "cannot tell who sent this SMS" in (item.reason or "")
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0


def test_concurrent_webhooks_share_commits_and_stay_one_each(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    """Requests arriving together are committed together; a twin in the same batch is one."""
    from concurrent.futures import ThreadPoolExecutor

    assert sms_gateway.http_address is not None
    address = sms_gateway.http_address
    forms = [sms_fields(f"question {n}", sender=f"+1415{2000000 + n:07d}") for n in range(20)]

    def post(n: int) -> int:
        client = TwilioClient(address)  # a session per request: sessions are not shared
        try:
            return client.post("/twilio/sms", forms[n % 20]).status_code
        finally:
            client.http.close()

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, range(40))) == [200] * 40
    assert _inbox_count(sms_runtime) == 20
    assert sms_gateway.processor.wait_idle(10)
    with sms_runtime.sessions() as s:
        texts = sorted(s.scalars(select(Message.visible_text)))
    assert texts == sorted(f"question {n}" for n in range(20))


def test_a_taken_http_port_is_one_clear_error(sms_env: dict[str, str]) -> None:
    import asyncio
    import socket

    import pytest

    from admin_cli.app import Gateway
    from gateway.config import load_settings
    from gateway.errors import CannotListen
    from gateway.runtime import open_runtime

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {**sms_env, "TICKETGW_HTTP_LISTEN": f"127.0.0.1:{port}"}
        runtime = open_runtime(load_settings(env))
        try:
            with pytest.raises(CannotListen, match=f"HTTP on 127.0.0.1:{port} .TICKETGW_HTTP"):
                asyncio.run(Gateway(runtime).start())
        finally:
            runtime.close()
