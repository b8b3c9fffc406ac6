"""A running gateway for end-to-end tests: the real SMTP listener, processing and workers,
delivering into a real SMTP sink; and the mail clients of customers and agents around it."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import func, select

from admin_cli.app import BackgroundGateway, Gateway
from gateway.agents import add_agent
from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime
from schema.models import InboxItem, OutboxItem
from tests.waiting import wait_until
from tests.workers.sink import Recorder, running_sink


@dataclass(frozen=True, slots=True)
class Live:
    gateway: Gateway
    sink: Recorder
    runtime: Runtime


@contextmanager
def live_gateway(env: dict[str, str], agents: dict[str, str]) -> Iterator[Live]:
    """``serve`` in-process on a free port, relaying into a sink; ``agents``: email -> name."""
    with running_sink() as (recorder, controller):
        settings = load_settings(
            {
                **env,
                "TICKETGW_SMTP_LISTEN": "127.0.0.1:0",
                "TICKETGW_SMTP_RELAY": f"127.0.0.1:{controller.port}",
            }
        )
        runtime = open_runtime(settings, migrate=True)
        with runtime.transaction() as s:
            for email, name in agents.items():
                add_agent(s, email, name)
        with BackgroundGateway(runtime, sweep_seconds=0.5) as gateway:
            yield Live(gateway, recorder, runtime)
        runtime.close()


def send(gateway: Gateway, mail: EmailMessage | bytes, sender: str = "", to: str = "") -> None:
    """Deliver ``mail`` to the listener as an MTA would (``sender``/``to`` for raw bytes)."""
    assert gateway.smtp_address is not None
    with smtplib.SMTP(*gateway.smtp_address, timeout=30) as client:
        if isinstance(mail, bytes):
            client.sendmail(sender, [to], mail)
        else:
            client.send_message(mail)


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html_of(mail: EmailMessage) -> str:
    return mail.get_body(("html",)).get_content()  # type: ignore[union-attr]


def received(
    recorder: Recorder, to: str, subject_part: str, count: int = 1, saying: str = ""
) -> EmailMessage:
    """The ``count``-th mail to ``to`` with ``subject_part`` in its subject and ``saying`` in
    its text. Workers deliver concurrently: two mails of one change may arrive in any order."""

    def found() -> list[EmailMessage]:
        return [
            m
            for m in list(recorder.messages)
            if to in str(m["To"]) and subject_part in str(m["Subject"]) and saying in text_of(m)
        ]

    wait_until(lambda: len(found()) >= count, what=f"{subject_part!r} mail to {to}")
    return found()[count - 1]


def mails_to(recorder: Recorder, to: str) -> list[EmailMessage]:
    return [m for m in list(recorder.messages) if to in str(m["To"])]


def answer(to_mail: EmailMessage, sender: str, text: str, *, below: bool = False) -> EmailMessage:
    """What a mail client sends on Reply: quotes the original, keeps the thread headers.

    ``below``: the sender bottom-posts, writing under the quoted mail.
    """
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(to_mail["Reply-To"])
    reply["Subject"] = f"Re: {to_mail['Subject']}"
    reply["In-Reply-To"] = str(to_mail["Message-ID"])
    reply["References"] = f"{to_mail.get('References', '')} {to_mail['Message-ID']}".strip()
    quoted = "\n".join("> " + line for line in text_of(to_mail).splitlines())
    attribution = f"On Mon, Mar 2, 2026 at 10:00 AM {to_mail['From']} wrote:"
    if below:
        reply.set_content(f"{attribution}\n{quoted}\n\n{text}\n")
    else:
        reply.set_content(f"{text}\n\n{attribution}\n{quoted}\n")
    return reply


def settled(live: Live) -> None:
    """Wait until every accepted mail is processed and every notification delivered.

    After this, a mail that is not in the sink was never going to be sent: the outbox rows
    a mail causes are written in the transaction that processes it.
    """

    def done() -> bool:
        with live.runtime.sessions() as s:
            waiting = s.scalar(
                select(func.count()).select_from(InboxItem).where(InboxItem.status == "pending")
            )
            unsent = s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status.in_(("pending", "sending")))
            )
            sent = s.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "sent")
            )
        return waiting == 0 and unsent == 0 and len(live.sink.messages) >= (sent or 0)

    wait_until(done, what="inbox processed and outbox delivered")
