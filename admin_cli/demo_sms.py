"""The SMS half of ``ticketgw demo``: a customer texts, an agent answers from her mail client.

The customer's text reaches the live HTTP listener as Twilio delivers it: a form POSTed to
``/twilio/sms`` with ``X-Twilio-Signature`` computed by twilio's ``RequestValidator``. The
texts the customer's phone receives are captured at the local Twilio stand-in
(:mod:`workers.transports.twilio_standin`), which the demo's workers send to through the
real Twilio client; the agent's mail goes through the live SMTP listener.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from admin_cli.app import Gateway
from admin_cli.demo_mailbox import Mailbox, reply, send
from gateway import audit
from gateway.contacts import find_identity
from gateway.tickets import change_status
from schema.models import Message, Ticket
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
    _close_earlier(gateway)
    before, mails = len(standin.messages), len(mailbox.messages)
    sid, answer = _customer_texts(gateway, standin, TEXT)
    _say(f"{CUSTOMER_NUMBER} texts {OUR_NUMBER}: {TEXT}")
    click.echo(f"  (Twilio's signed webhook POST /twilio/sms, {sid}: {answer})")

    _show_sms("the customer's phone receives", _wait(standin, before, 1))
    reference = _reference(gateway, sid)
    notice = mailbox.wait_for(agent[1], reference, after=mails)
    click.echo(f"\n< the agent is notified: {' '.join(str(notice['Subject']).split())}")

    answer_mail = reply(notice, agent, ANSWER)
    _say(f"{agent[1]} answers from her mail client: {send(gateway, answer_mail)}")
    _show_sms("the customer's phone receives the agent's answer", _wait(standin, before, 2))
    return reference


def _close_earlier(gateway: Gateway) -> None:
    """Close the conversation of an earlier run, so that this text opens a ticket of its own
    (a text goes onto the sender's open ticket). Closing an SMS ticket sends no SMS."""
    with gateway.runtime.transaction() as session:
        identity = find_identity(session, "phone", CUSTOMER_NUMBER)
        if identity is None:
            return
        earlier = session.scalars(
            select(Ticket).where(
                Ticket.contact_id == identity.contact_id, Ticket.status != "closed"
            )
        ).all()
        for ticket in earlier:
            change_status(session, ticket, "closed", actor=audit.ADMIN)
            click.echo(f"\n(the last run's SMS conversation {ticket.reference} is closed now)")


def _customer_texts(gateway: Gateway, standin: TwilioStandIn, text: str) -> tuple[str, int]:
    """Post the customer's SMS to the live listener as Twilio does; its MessageSid and the
    HTTP status the listener answered (``200`` once it is stored)."""
    assert gateway.http_address is not None, "the demo listens for HTTP"
    host, port = gateway.http_address
    sid = new_sid("SM")
    form = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": text,
        "To": OUR_NUMBER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": standin.account_sid,
        "From": CUSTOMER_NUMBER,
        "FromCountry": "US",
        "ApiVersion": "2010-04-01",
    }
    status = standin.post_signed(f"http://{host}:{port}/twilio/sms", form)
    if status != 200:
        raise click.ClickException(f"the HTTP listener refused the demo's SMS with {status}")
    return sid, status


def _reference(gateway: Gateway, sid: str) -> str:
    """The ticket the text went onto (it is stored before its acknowledgement goes out)."""
    with gateway.runtime.sessions() as session:
        ticket = session.scalar(select(Ticket).join(Message).where(Message.sms_sid == sid))
        if ticket is None:
            raise click.ClickException(f"the demo's SMS {sid} is on no ticket")
        return ticket.reference


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
