"""What the inbound pipeline carries from step to step: one item's :class:`Work`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.classify import Verdict
from gateway.mail.parse import ParsedMail
from gateway.threading import ThreadDecision
from schema.models import InboxItem, Message, Ticket
from schema.models.base import utcnow


@dataclass(frozen=True, slots=True)
class Work:
    """Everything known about one inbound item so far; each step returns a richer copy.

    ``item`` is the inbox row being processed (``None`` for ``mail explain``, which has
    none); ``now`` is the item's own clock, the time its writes carry.
    """

    raw: bytes
    envelope_sender: str | None
    envelope_recipients: tuple[str, ...]
    item: InboxItem | None = None
    now: datetime = field(default_factory=utcnow)
    parsed: ParsedMail | None = None
    sender: str = ""
    verdict: Verdict | None = None
    thread: ThreadDecision | None = None
    author: str = ""  # customer | agent | system
    author_reason: str = ""
    duplicate_of: str | None = None
    ticket: Ticket | None = None
    message: Message | None = None
    new_ticket: bool = False
    held: bool = False  # the circuit breaker's: stored and threaded, nobody notified
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def item_id(self) -> int | None:
        return self.item.id if self.item is not None else None

    @property
    def channel(self) -> str:
        """The inbox row's channel (``mail explain`` explains mail)."""
        return self.item.channel if self.item is not None else "email"

    @property
    def identity_kind(self) -> str:
        """What ``sender`` is: a phone number on SMS, else an email address."""
        return "phone" if self.channel == "sms" else "email"
