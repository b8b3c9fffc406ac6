"""A real SMTP sink for delivery tests: an aiosmtpd server that records what it accepts.

Behaviours a relay can have are switches on :class:`Recorder`: answer every DATA with a
fixed reply (``550`` refuses, ``451`` defers), refuse chosen recipients at RCPT, answer the
next MAIL commands with given replies (``503`` for a broken session), hang (a timeout for
the client), or hold messages at DATA until released, which is how a test catches a worker
mid-send.

Where the gateway met Postfix (docs/deploy.md), the sink behaves like it: it advertises
``SMTPUTF8`` unless told not to (Postfix's ``smtputf8_enable``); it answers a MAIL inside a
transaction with ``503`` (aiosmtpd does that itself); and configuration changes take effect
like ``postfix reload``: a session keeps the recipient refusals and ``SMTPUTF8`` setting it
started with, so connections opened before :meth:`Recorder.reload` still answer the old way.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tests.waiting import free_port


class Recorder:
    """The handler: ``handle_DATA`` records the mail and answers, as configured."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.mail_options: list[list[str]] = []  # the MAIL parameters of each accepted mail
        self.sessions = 0  # connections accepted so far
        self.reply: str | None = None  # e.g. "550 5.7.1 rejected" instead of accepting
        # Recipient (or "@domain") -> reply at RCPT ("450 ...", "550 ..."); see reload().
        self.refuse_rcpt: dict[str, str] = {}
        self.smtputf8 = True  # advertise SMTPUTF8 to sessions opened from now on
        self.mail_replies: list[str] = []  # the next MAIL commands get these, one each
        self.hang = False  # never answer DATA (until the client gives up)
        self.accept_before_hold: int | None = None  # accept N mails, then hold the rest
        self.held = 0
        self.on_accept: Callable[[], None] | None = None  # runs before each 250 to DATA
        self._release: asyncio.Event | None = None
        self._lock = threading.Lock()

    def reload(self, *, refuse_rcpt: dict[str, str]) -> None:
        """Like ``postfix reload``: new sessions refuse ``refuse_rcpt``; open ones do not change."""
        self.refuse_rcpt = dict(refuse_rcpt)

    def session_started(self, server: SMTP) -> None:
        """Called for each connection: it keeps the configuration of this moment."""
        with self._lock:
            self.sessions += 1
        server.sink_refusals = self.refuse_rcpt  # type: ignore[attr-defined]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        refusals: dict[str, str] = getattr(server, "sink_refusals", self.refuse_rcpt)
        domain = "@" + address.rpartition("@")[2]
        if reply := refusals.get(address) or refusals.get(domain):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._release is None:
            self._release = asyncio.Event()
        if self.hang:
            await asyncio.sleep(3600)
        if self.reply:
            return self.reply
        if self.accept_before_hold is not None and len(self.messages) >= self.accept_before_hold:
            self.held += 1
            try:
                # Cancelled when the client disconnects: like a real MTA, no 250, no mail.
                await self._release.wait()
            finally:
                self.held -= 1
        if envelope.smtp_utf8:  # RFC 6532: the headers are UTF-8
            mail = message_from_string(envelope.content.decode("utf-8"), policy=policy.default)
        else:
            mail = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(mail)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.mail_options.append(list(envelope.mail_options))
        if self.on_accept is not None:
            self.on_accept()
        return "250 2.0.0 Ok: queued as Q" + str(len(self.messages))

    def release(self, controller: Controller) -> None:
        self.accept_before_hold = None
        if self._release is not None:
            controller.loop.call_soon_threadsafe(self._release.set)

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)


class SinkController(Controller):
    """Each connection gets an SMTP server configured as the recorder is at that moment."""

    handler: Recorder

    def factory(self) -> SMTP:
        options = {**self.SMTP_kwargs, "enable_SMTPUTF8": self.handler.smtputf8}
        server = SMTP(self.handler, **options)
        self.handler.session_started(server)
        return server


@contextmanager
def running_sink() -> Iterator[tuple[Recorder, Controller]]:
    recorder = Recorder()
    controller = SinkController(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.sessions = 0  # start() opened one connection to see the server answer
    try:
        yield recorder, controller
    finally:
        recorder.release(controller)
        controller.stop()
