"""The demo's stand-in for the outside world's mail servers: a local SMTP mailbox.

``ticketgw demo`` points the gateway's outgoing relay here for its run, so the demo shows
the mails customers and agents would receive without sending anything off this machine.
"""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

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
