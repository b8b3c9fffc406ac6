"""A real SMTP sink for delivery tests: an aiosmtpd server that records what it accepts.

Behaviours a relay can have are switches on :class:`Recorder`: answer every DATA with a
fixed reply (``550`` refuses, ``451`` defers), refuse chosen recipients at RCPT, hang (a
timeout for the client), or hold messages at DATA until released, which is how a test
catches a worker mid-send.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.waiting import free_port


class Recorder:
    """The handler: ``handle_DATA`` records the mail and answers, as configured."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reply: str | None = None  # e.g. "550 5.7.1 rejected" instead of accepting
        self.refuse_rcpt: dict[str, str] = {}  # recipient -> reply at RCPT ("450 ...", "550 ...")
        self.hang = False  # never answer DATA (until the client gives up)
        self.accept_before_hold: int | None = None  # accept N mails, then hold the rest
        self.held = 0
        self._release: asyncio.Event | None = None
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if reply := self.refuse_rcpt.get(address):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

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
        mail = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(mail)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued as Q" + str(len(self.messages))

    def release(self, controller: Controller) -> None:
        self.accept_before_hold = None
        if self._release is not None:
            controller.loop.call_soon_threadsafe(self._release.set)

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)


@contextmanager
def running_sink() -> Iterator[tuple[Recorder, Controller]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller
    finally:
        recorder.release(controller)
        controller.stop()
