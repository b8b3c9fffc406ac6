"""The live half of ``ticketgw demo``: a conversation through real sockets.

A customer's mail goes into the SMTP listener with smtplib; the acknowledgement and the
agent's notification come out of the workers into a local mailbox; the customer replies
to the acknowledgement and the agent to her notification, from "mail clients" that quote
what they answer, exactly as people do.
"""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid

import click

from admin_cli import demo_sms
from admin_cli.app import BackgroundGateway, Gateway
from admin_cli.demo_mailbox import Mailbox, reply, send
from gateway.config import Settings
from gateway.runtime import open_runtime
from gateway.tickets import get_ticket, messages_of
from workers.transports.twilio_standin import TwilioStandIn

CUSTOMER = ("Erin Example", "erin@example.org")
AGENT = ("Ann Agent", "ann@example.com")


def play(settings: Settings) -> tuple[str, str]:
    """Run the conversations by mail and by SMS; returns the tickets they happened on."""
    with Mailbox() as mailbox, TwilioStandIn() as twilio:
        live = replace(
            settings,
            smtp_listen=("127.0.0.1", 0),
            http_listen=("127.0.0.1", 0),
            smtp_relay=("127.0.0.1", mailbox.port),
            smtp_relay_user=None,
            smtp_relay_password=None,
            smtp_relay_starttls=False,
            redis_url=None,  # the demo delivers with in-process workers
            twilio_account_sid=twilio.account_sid,
            twilio_auth_token=twilio.auth_token,
            twilio_from=demo_sms.OUR_NUMBER,
            twilio_api_base=twilio.base_url,
            # The demo posts the webhook to the listener itself: no proxy in between.
            public_url=None,
        )
        runtime = open_runtime(live, migrate=True)
        try:
            with BackgroundGateway(runtime, sweep_seconds=1.0) as gateway:
                by_mail = _conversation(gateway, mailbox, live.support_address[0])
                click.echo(
                    "\nBy SMS: a local stand-in for Twilio's API receives what the gateway "
                    "sends\nthrough the real Twilio client."
                )
                by_sms = demo_sms.play(gateway, mailbox, twilio, AGENT)
                return by_mail, by_sms
        finally:
            runtime.close()


def _conversation(gateway: Gateway, mailbox: Mailbox, support: str) -> str:
    subject = f"Parcel never arrived ({make_msgid()[1:9]})"
    first = EmailMessage()
    first["From"] = f"{CUSTOMER[0]} <{CUSTOMER[1]}>"
    first["To"] = support
    first["Subject"] = subject
    first["Message-ID"] = make_msgid(domain="example.org")
    first.set_content("Hello,\n\nmy order 7781 was due last week and has not arrived.\n\nErin")
    _say(f"{CUSTOMER[1]} writes to {support}: {send(gateway, first)}")

    ack = mailbox.wait_for(CUSTOMER[1], subject)
    _show("the customer receives", ack)
    notice = mailbox.wait_for(AGENT[1], subject)
    _show("the agent is notified", notice)

    more = reply(ack, CUSTOMER, "It was sent to my old address, I think.")
    _say(f"{CUSTOMER[1]} replies to the acknowledgement: {send(gateway, more)}")
    update = mailbox.wait_for(AGENT[1], subject, after=mailbox.messages.index(notice) + 1)

    answer = reply(update, AGENT, "#assign me\nHi Erin, we have sent a new parcel today.")
    _say(f"{AGENT[1]} answers from her mail client: {send(gateway, answer)}")
    relayed = mailbox.wait_for(CUSTOMER[1], subject, after=mailbox.messages.index(ack) + 1)
    _show("the customer receives the agent's answer", relayed)
    reference = str(ack["Subject"]).split("]")[0].lstrip("[")

    with gateway.runtime.sessions() as session:
        ticket = get_ticket(session, reference)
        assignee = ticket.assignee.email if ticket.assignee else "nobody"
        click.echo(f"\n{ticket.reference} ({ticket.status}, assigned to {assignee}):")
        for message in messages_of(session, ticket):
            who = message.sender or message.author_kind
            first_line = message.visible_text.strip().splitlines()[0]
            click.echo(f"  {message.author_kind:8} {who:22} {first_line}")
    return reference


def _say(line: str) -> None:
    click.echo(f"\n> {line}")


def _show(what: str, mail: EmailMessage) -> None:
    body = mail.get_body(("plain",))
    lines = (body.get_content() if body else "").strip().splitlines()
    click.echo(f"\n< {what}:")
    subject = " ".join(str(mail["Subject"]).split())
    click.echo(f"    From: {mail['From']}\n    To: {mail['To']}\n    Subject: {subject}")
    for line in lines[:8]:
        click.echo(f"    | {line}")
    if len(lines) > 8:
        click.echo("    | ...")
