"""The SMS half of ``ticketgw demo``: a customer texts, an agent answers from her mail client.

The texts the customer's phone receives are captured at the local Twilio stand-in
(:mod:`workers.transports.twilio_standin`), which the demo's workers send to through the
real Twilio client; the agent's mail goes through the live SMTP listener.
"""

from __future__ import annotations

import click

from admin_cli.app import Gateway
from admin_cli.demo_mailbox import Mailbox, reply, send
from admin_cli.processing import Processing
from gateway import audit
from gateway.contacts import contact_for_phone
from gateway.outbox.relay import relay_pending
from gateway.queues import DEFAULT_QUEUE, get_queue
from gateway.tickets import NewMessage, add_message, open_ticket
from workers.enqueue import to_broker
from workers.transports.twilio_standin import StandInMessage, TwilioStandIn, new_sid

CUSTOMER_NUMBER = "+14155550143"
OUR_NUMBER = "+15005550006"  # Twilio's test number that always accepts
TEXT = "Hi, the heater I bought last week (order 8812) makes a loud noise. What can I do?"
ANSWER = (
    "Hi, sorry about that! Please switch it off and check that the back grille is clear. "
    "If it is still loud, reply here and we send a replacement."
)


def play(gateway: Gateway, mailbox: Mailbox, standin: TwilioStandIn, agent: tuple[str, str]) -> str:
    """Run the SMS conversation; returns the ticket reference it happened on."""
    before, mails = len(standin.messages), len(mailbox.messages)
    reference = _customer_texts(gateway, TEXT)
    _say(f"{CUSTOMER_NUMBER} texts {OUR_NUMBER}: {TEXT}")

    _show_sms("the customer's phone receives", _wait(standin, before, 1))
    notice = mailbox.wait_for(agent[1], reference, after=mails)
    click.echo(f"\n< the agent is notified: {' '.join(str(notice['Subject']).split())}")

    answer = reply(notice, agent, ANSWER)
    _say(f"{agent[1]} answers from her mail client: {send(gateway, answer)}")
    _show_sms("the customer's phone receives the agent's answer", _wait(standin, before, 2))
    return reference


def _customer_texts(gateway: Gateway, text: str) -> str:
    """The customer's SMS as the inbound SMS pipeline stores it: a ticket on the SMS channel.

    Stored directly, as the seeded tickets are; the notifications it causes are then handed
    to the workers, as the processor does after a batch.
    """
    with gateway.runtime.transaction() as session:
        contact = contact_for_phone(session, CUSTOMER_NUMBER)
        ticket = open_ticket(
            session,
            queue=get_queue(session, DEFAULT_QUEUE),
            contact=contact,
            subject=f"SMS from {CUSTOMER_NUMBER}",
            channel="sms",
            actor=audit.customer_actor(CUSTOMER_NUMBER),
        )
        add_message(
            session,
            ticket,
            NewMessage(
                author_kind="customer",
                channel="sms",
                visible_text=text,
                full_text=text,
                sender=CUSTOMER_NUMBER,
                contact=contact,
                sms_sid=new_sid("SM"),
            ),
        )
        reference = ticket.reference
    processing = gateway.processing
    assert isinstance(processing, Processing), "the demo processes in this process"
    relay_pending(gateway.runtime.sessions, to_broker(processing.broker))
    return reference


def _wait(standin: TwilioStandIn, before: int, count: int) -> StandInMessage:
    """The ``count``-th SMS to the customer since ``before``."""
    messages = standin.wait_for(count, to=CUSTOMER_NUMBER, after=before)
    return messages[count - 1]


def _say(line: str) -> None:
    click.echo(f"\n> {line}")


def _show_sms(what: str, sms: StandInMessage) -> None:
    click.echo(f"\n< {what}:")
    sender = sms.from_ or sms.messaging_service_sid
    click.echo(f"    From: {sender}\n    To: {sms.to}\n    Segments: {sms.num_segments}")
    for line in sms.body.splitlines():
        click.echo(f"    | {line}")
