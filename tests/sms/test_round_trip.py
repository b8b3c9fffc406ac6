"""A whole SMS conversation through the live listener and the local Twilio stand-in."""

from __future__ import annotations

from sqlalchemy import select

from admin_cli.app import Gateway
from gateway import tickets
from gateway.agents import add_agent
from gateway.runtime import Runtime
from gateway.tickets import NewMessage
from schema.models import OutboxItem, Ticket
from tests.sms.conftest import (
    CUSTOMER,
    OUR_NUMBER,
    PUBLIC_URL,
    TwilioClient,
    status_fields,
)
from tests.waiting import wait_until
from workers.transports.twilio_standin import TwilioStandIn


def _row(runtime: Runtime, template: str) -> OutboxItem | None:
    with runtime.sessions() as s:
        return s.scalars(select(OutboxItem).where(OutboxItem.template == template)).first()


def test_text_in_acknowledgement_out_delivery_reported_then_stop(
    live: tuple[Gateway, Runtime, TwilioStandIn],
) -> None:
    gateway, runtime, standin = live
    assert gateway.http_address is not None
    webhooks = TwilioClient(gateway.http_address)
    assert webhooks.sms("Where is my order 5512?").status_code == 200
    [ack] = standin.wait_for(1)
    assert (ack.to, ack.from_) == (CUSTOMER, OUR_NUMBER)
    assert ack.status_callback == PUBLIC_URL + "/twilio/status"
    assert "T-000001" in ack.body
    sent = wait_until(
        lambda: (row := _row(runtime, "sms_ack")) is not None and row.provider_id and row,
        what="the acknowledgement recorded as sent",
    )
    assert (sent.status, sent.provider_id) == ("sent", ack.sid)
    for status in ("sent", "delivered", "sent"):
        assert webhooks.post("/twilio/status", status_fields(ack.sid, status)).status_code == 204
    assert (row := _row(runtime, "sms_ack")) is not None
    assert row.delivery_status == "delivered"

    assert webhooks.sms("stop").status_code == 200
    assert gateway.processor.wait_idle(10)
    with runtime.transaction() as s:
        agent = add_agent(s, "ann@example.com", "Ann Agent")
        ticket = s.scalars(select(Ticket)).one()
        reply = NewMessage(
            author_kind="agent", channel="email", visible_text="It ships today.", agent=agent
        )
        tickets.add_message(s, ticket, reply)
    refused = wait_until(lambda: _row(runtime, "sms_agent_reply"), what="the reply's row")
    assert refused.status == "failed"
    assert f"{CUSTOMER} opted out of SMS" in (refused.last_error or "")
    assert len(standin.messages) == 1  # nothing more reached Twilio
    webhooks.http.close()
