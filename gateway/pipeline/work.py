"""What the inbound pipeline carries from step to step, and what the steps share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.classify import Verdict
from gateway.config import Settings
from gateway.lookups import lookups
from gateway.mail.parse import ParsedMail
from gateway.queues import queue_for_address
from gateway.threading import ThreadDecision
from schema.models import Message, Queue, QueueAddress, Ticket
from schema.models.base import utcnow


@dataclass(frozen=True, slots=True)
class Work:
    """Everything known about one inbound mail so far; each step returns a richer copy."""

    raw: bytes
    envelope_sender: str | None
    envelope_recipients: tuple[str, ...]
    item_id: int | None = None
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


@dataclass(slots=True)
class Env:
    """What the steps need besides the mail: the session, settings and per-batch caches.

    The caches live as long as the transaction (``ingest_batch`` shares them between the
    mails of one transaction through :meth:`next_item`): agents, support addresses and
    queues do not change under a running import, and never across transactions.
    """

    session: Session
    settings: Settings
    now: datetime = field(default_factory=utcnow)
    cache: dict[str, Any] = field(default_factory=dict)

    def next_item(self) -> Env:
        """The environment for the next mail of the same transaction: its own clock."""
        return Env(self.session, self.settings, cache=self.cache)

    @property
    def agent_addresses(self) -> frozenset[str]:
        if "agents" not in self.cache:
            # The lookups read every agent once per transaction; the active ones are these.
            agents = lookups(self.session).all_agents()
            self.cache["agents"] = frozenset(a.email for a in agents if a.active)
        return self.cache["agents"]  # type: ignore[no-any-return]

    @property
    def support_addresses(self) -> frozenset[str]:
        if "support" not in self.cache:
            rows = self.session.scalars(select(QueueAddress.address))
            self.cache["support"] = frozenset(rows) | frozenset(self.settings.support_address)
        return self.cache["support"]  # type: ignore[no-any-return]

    def queue_for_address(self, address: str) -> Queue | None:
        queues: dict[str, Queue | None] = self.cache.setdefault("queues", {})
        if address not in queues:
            queues[address] = queue_for_address(self.session, address)
        return queues[address]


Step = Callable[[Work, Env], Work]
