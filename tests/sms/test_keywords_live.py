"""STOP, START and HELP through the live listener, and what an opt-out does to our SMS."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_cli.app import Gateway
from gateway import tickets
from gateway.agents import add_agent
from gateway.runtime import Runtime
from gateway.tickets import NewMessage
from schema.models import ContactIdentity, InboxItem, Message, OutboxItem, Ticket
from tests.sms.conftest import CUSTOMER, TwilioClient, receive_sms


def _say(webhooks: TwilioClient, gateway: Gateway, text: str) -> None:
    assert webhooks.sms(text).status_code == 200
    assert gateway.processor.wait_idle(10)


def _identity(runtime: Runtime) -> ContactIdentity:
    with runtime.sessions() as s:
        return s.scalars(select(ContactIdentity).where(ContactIdentity.value == CUSTOMER)).one()


def _agent_replies(runtime: Runtime, text: str) -> None:
    with runtime.transaction() as s:
        agent = add_agent(s, "ann@example.com", "Ann Agent")
        ticket = s.scalars(select(Ticket)).one()
        tickets.add_message(
            s,
            ticket,
            NewMessage(author_kind="agent", channel="email", visible_text=text, agent=agent),
        )


@pytest.mark.parametrize(
    "word", ["STOP", " stop ", "Unsubscribe", "CANCEL", "end", "Quit", "stopall"]
)
def test_an_opt_out_keyword_is_recorded_and_opens_no_ticket(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime, word: str
) -> None:
    _say(webhooks, sms_gateway, word)
    assert _identity(sms_runtime).sms_opted_out_at is not None
    with sms_runtime.sessions() as s:
        item = s.scalars(select(InboxItem)).one()
        assert (item.status, item.classification) == ("ignored", "keyword")
        assert item.thread_reason == f"keyword {word.strip().upper()}: opt-out, no ticket"
        assert s.scalars(select(Ticket)).first() is None


def test_no_sms_reaches_an_opted_out_number_and_the_agents_are_told(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    _say(webhooks, sms_gateway, "My bill is wrong")
    _say(webhooks, sms_gateway, "Stop")
    _agent_replies(sms_runtime, "We corrected your bill.")
    with sms_runtime.sessions() as s:
        reply = s.scalars(select(OutboxItem).where(OutboxItem.template == "sms_agent_reply")).one()
        assert reply.status == "failed"
        assert reply.last_error is not None
        assert f"{CUSTOMER} opted out of SMS" in reply.last_error
        notes = [m.visible_text for m in s.scalars(select(Message).where(Message.internal))]
        assert (
            notes[0]
            == f"The customer texted STOP: no SMS goes to {CUSTOMER} until they text START."
        )
        assert notes[1].startswith("SMS sms_agent_reply not sent:")
        assert all(
            m.author_kind == "system" for m in s.scalars(select(Message).where(Message.internal))
        )


def test_start_lifts_the_opt_out_and_yes_only_when_opted_out(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    _say(webhooks, sms_gateway, "yes")  # not opted out: an ordinary message
    with sms_runtime.sessions() as s:
        assert [m.visible_text for m in s.scalars(select(Message))] == ["yes"]
    _say(webhooks, sms_gateway, "STOP")
    _say(webhooks, sms_gateway, " YES ")
    assert _identity(sms_runtime).sms_opted_out_at is None
    _say(webhooks, sms_gateway, "QUIT")
    _say(webhooks, sms_gateway, "unstop")
    assert _identity(sms_runtime).sms_opted_out_at is None
    _agent_replies(sms_runtime, "Welcome back.")
    with sms_runtime.sessions() as s:
        reply = s.scalars(select(OutboxItem).where(OutboxItem.template == "sms_agent_reply")).one()
        assert reply.last_error is None or "opted out" not in reply.last_error
        assert len(s.scalars(select(Ticket)).all()) == 1


def test_help_gets_the_help_text_and_no_ticket(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    _say(webhooks, sms_gateway, "  help ")
    with sms_runtime.sessions() as s:
        row = s.scalars(select(OutboxItem)).one()
        assert (row.channel, row.recipient, row.template) == ("sms", CUSTOMER, "sms_help")
        assert row.context["vars"]["support_address"] == "support@example.com"
        assert row.context["from"] == "+14155550100"
        assert s.scalars(select(Ticket)).first() is None


def test_opting_out_fails_the_sms_still_waiting(sms_runtime: Runtime) -> None:
    """Without workers: the acknowledgement waits in the outbox when STOP arrives."""
    receive_sms(sms_runtime, "Where is my parcel?")
    receive_sms(sms_runtime, "STOP")
    with sms_runtime.sessions() as s:
        ack = s.scalars(select(OutboxItem).where(OutboxItem.template == "sms_ack")).one()
        assert ack.status == "failed"
        assert "opted out of SMS" in (ack.last_error or "")


def test_help_on_an_open_ticket_names_it(sms_runtime: Runtime) -> None:
    receive_sms(sms_runtime, "My modem is dead")
    receive_sms(sms_runtime, "HELP")
    with sms_runtime.sessions() as s:
        ticket = s.scalars(select(Ticket)).one()
        row = s.scalars(select(OutboxItem).where(OutboxItem.template == "sms_help")).one()
        assert row.ticket_id == ticket.id
        assert row.context["vars"]["ticket"]["reference"] == ticket.reference
        assert len(s.scalars(select(Message)).all()) == 1
