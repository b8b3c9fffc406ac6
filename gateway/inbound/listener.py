"""The one protocol every listener speaks: start, stop, hand over a durable inbox id.

A listener takes items from outside (SMTP, Twilio's webhooks over HTTP, the IMAP
mailboxes' pollers), commits each to the inbox (``gateway.inbound.inbox.accept``)
and only then tells the sender "accepted" and calls ``handover`` with the new item's id.
What it hands over is a hint, never the only copy: the processor's sweep finds every
``pending`` item in the database, so a hand-over lost in a crash loses nothing.

Listeners run on the application's event loop (``admin_cli.app``), which starts them
before processing and stops them before it; one that cannot start raises
:class:`~gateway.errors.CannotListen` (one line naming the setting).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Handover = Callable[[int], None]
"""Called with the id of an inbox item once it is committed (from any thread)."""


class Listener(Protocol):
    name: str  # for logs: "smtp", "http", "imap"

    async def start(self, handover: Handover) -> None:
        """Begin accepting items; return once accepting (a port bound, a poll started)."""

    async def stop(self) -> None:
        """Stop accepting and finish what was accepted; hand over nothing after this."""
