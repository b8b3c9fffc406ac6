"""The demo's stand-in for the outside world's mail: a local SMTP mailbox, and mail clients.

``ticketgw demo`` points the gateway's outgoing relay here for its run, so the demo shows
the mails customers and agents would receive without sending anything off this machine;
:func:`reply` and :func:`send` are what their mail clients do.
"""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from aiosmtpd.controller import Controller

from admin_cli.app import Gateway
from gateway.errors import GatewayError


class Mailbox:
    """Every mail the gateway sends, as the recipients' mail servers would receive it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        with socket.socket() as s:  # aiosmtpd's Controller cannot bind port 0 itself
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(mail)
        return "250 2.0.0 delivered to the demo mailbox"

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def wait_for(
        self, to: str, template_hint: str, after: int = 0, timeout: float = 20
    ) -> EmailMessage:
        """The first mail to ``to`` whose subject contains ``template_hint``, past ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [
                    m
                    for m in self.messages[after:]
                    if to in str(m["To"]).lower() and template_hint in str(m["Subject"])
                ]
            if found:
                return found[0]
            time.sleep(0.05)
        raise GatewayError(f"demo: no mail to {to} arrived within {timeout:.0f} s")


def send(gateway: Gateway, mail: EmailMessage) -> str:
    """Send ``mail`` to the gateway's live SMTP listener; returns how it answered."""
    assert gateway.smtp_address is not None
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.send_message(mail)
        code, _ = client.noop()
    return f"accepted ({code})"


def reply(to: EmailMessage, sender: tuple[str, str], text: str) -> EmailMessage:
    """What a mail client sends on Reply: the thread headers, and the original quoted."""
    mail = EmailMessage()
    mail["From"] = f"{sender[0]} <{sender[1]}>"
    mail["To"] = str(to["Reply-To"])
    mail["Subject"] = f"Re: {to['Subject']}"
    mail["Message-ID"] = make_msgid(domain=sender[1].partition("@")[2])
    mail["In-Reply-To"] = str(to["Message-ID"])
    mail["References"] = f"{to.get('References', '')} {to['Message-ID']}".strip()
    body = to.get_body(("plain",))
    quoted = "\n".join(f"> {line}" for line in (body.get_content() if body else "").splitlines())
    mail.set_content(f"{text}\n\nOn Monday, {to['From']} wrote:\n{quoted}\n")
    return mail
