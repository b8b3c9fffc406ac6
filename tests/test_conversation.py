"""A whole conversation through real sockets: customer mail in over SMTP, notifications out
through the workers into a real SMTP sink, the customer's and the agent's mail clients
replying to what they received."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from admin_cli.app import BackgroundGateway, Gateway
from gateway import tickets
from gateway.agents import add_agent
from gateway.config import load_settings
from gateway.mail.quotes import REPLY_MARKER
from gateway.runtime import Runtime, open_runtime
from tests.inbound.mails import new_request
from tests.waiting import wait_until
from tests.workers.sink import Recorder, running_sink


@pytest.fixture
def live(env: dict[str, str]) -> Iterator[tuple[Gateway, Recorder, Runtime]]:
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
            add_agent(s, "ann@support.test", "Ann Agent")
        with BackgroundGateway(runtime, sweep_seconds=0.5) as gateway:
            yield gateway, recorder, runtime
        runtime.close()


def _send(gateway: Gateway, mail: EmailMessage) -> None:
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.send_message(mail)


def _received(
    recorder: Recorder, to: str, subject_part: str, count: int = 1, saying: str = ""
) -> EmailMessage:
    """The ``count``-th mail to ``to`` with ``subject_part`` in its subject and ``saying`` in
    its text. Workers deliver concurrently: two mails of one change may arrive in any order."""

    def found() -> list[EmailMessage]:
        return [
            m
            for m in list(recorder.messages)
            if to in str(m["To"])
            and subject_part in str(m["Subject"])
            and saying in m.get_body(("plain",)).get_content()
        ]

    wait_until(lambda: len(found()) >= count, what=f"{subject_part!r} mail to {to}")
    return found()[count - 1]


def _answer(to_mail: EmailMessage, sender: str, text: str) -> EmailMessage:
    """What a mail client sends on Reply: quotes the original, keeps the thread headers."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(to_mail["Reply-To"])
    reply["Subject"] = f"Re: {to_mail['Subject']}"
    reply["In-Reply-To"] = str(to_mail["Message-ID"])
    reply["References"] = f"{to_mail.get('References', '')} {to_mail['Message-ID']}".strip()
    quoted = "\n".join(
        "> " + line for line in to_mail.get_body(("plain",)).get_content().splitlines()
    )
    reply.set_content(f"{text}\n\nOn Monday, Support wrote:\n{quoted}\n")
    return reply


def test_customer_agent_conversation(live: tuple[Gateway, Recorder, Runtime]) -> None:
    gateway, recorder, runtime = live
    original = new_request(subject="Printer on fire", body="It is smoking. Help!")
    _send(gateway, original)

    ack = _received(recorder, "bob@example.org", "Printer on fire")
    assert "[T-000001]" in str(ack["Subject"])
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Loop"] == "ticket-gateway"
    assert ack["In-Reply-To"] == original["Message-ID"], "the ack continues the customer's thread"
    assert ack.get_body(("plain",)).get_content().startswith(REPLY_MARKER)
    assert ack.get_body(("html",)) is not None, "text and HTML alternatives"

    notice = _received(recorder, "ann@support.test", "Printer on fire")
    assert "It is smoking. Help!" in notice.get_body(("plain",)).get_content()
    # RFC 3834: only the ack answers the recipient's own mail; a notification does not.
    assert notice["Auto-Submitted"] == "auto-generated"

    # The customer answers the acknowledgement from their mail client.
    _send(gateway, _answer(ack, "Bob Jones <bob@example.org>", "It stopped smoking now."))
    update = _received(recorder, "ann@support.test", "Printer on fire", count=2)
    assert "It stopped smoking now." in update.get_body(("plain",)).get_content()

    # The agent answers her notification, with a command on the first line.
    _send(gateway, _answer(update, "Ann Agent <ann@support.test>", "#resolve\nGlad to hear it!"))
    answer = _received(recorder, "bob@example.org", "Printer on fire", saying="Glad to hear")
    body = answer.get_body(("plain",)).get_content()
    assert "Glad to hear it!" in body
    assert "#resolve" not in body
    assert "It is smoking" not in body, "the agent's quoted history is not relayed"
    assert "Auto-Submitted" not in answer, "a human's answer is not an automatic mail"
    assert original["Message-ID"] in str(answer["References"])

    resolved = _received(recorder, "bob@example.org", "Printer on fire", saying="marked")
    assert "reply" in resolved.get_body(("plain",)).get_content().lower()
    assert resolved["Auto-Submitted"] == "auto-generated"
    assert len([m for m in recorder.messages if "bob@example.org" in str(m["To"])]) == 3
    with runtime.sessions() as s:
        ticket = tickets.get_ticket(s, "T-000001")
        assert ticket.status == "resolved"
        assert ticket.first_responded_at is not None
        assert len(tickets.messages_of(s, ticket)) == 3
    # Every mail was delivered exactly once.
    assert all(n == 1 for n in recorder.message_ids().values())
