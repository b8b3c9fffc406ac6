"""The unit of work: one transaction and what it shares between the items it handles.

The pipeline's steps get it explicitly: the session and settings, the transaction's
look-ups (``gateway.lookups``), its ticket events (``gateway.events``), and caches of what
does not change under a running batch (agents, support addresses, queues). Every write of
one item happens inside :meth:`UnitOfWork.savepoint`, so a failed item takes exactly its
own writes, events and queued rows with it, and :meth:`UnitOfWork.write` sends what was
queued before the savepoint ends (see ``schema.db.add_row``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import events
from gateway.config import Settings
from gateway.events import Event
from gateway.lookups import Lookups, lookups
from gateway.queues import queue_for_address
from schema.db import write_rows
from schema.models import Queue, QueueAddress


@dataclass(slots=True)
class UnitOfWork:
    """One transaction's session and settings, and the state its items share.

    The caches live as long as the transaction: agents, support addresses and queues do
    not change under a running batch (admins change them from the CLI, in transactions of
    their own), and never across transactions.
    """

    session: Session
    settings: Settings
    _agents: frozenset[str] | None = None
    _support: frozenset[str] | None = None
    _queues: dict[str, Queue | None] = field(default_factory=dict)

    @property
    def lookups(self) -> Lookups:
        """What the batch reads, answered from memory (``gateway.lookups``)."""
        return lookups(self.session)

    def emit(self, event: Event) -> None:
        """Record a ticket event; ``gateway.notify`` turns it into outbox rows."""
        events.emit(self.session, event)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint whose failure also forgets the events recorded inside it."""
        mark = events.mark(self.session)
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            events.rollback_to(self.session, mark)
            raise

    def write(self) -> None:
        """Flush the ORM and insert the queued rows, inside the current savepoint."""
        write_rows(self.session)
        self.session.flush()

    @property
    def agent_addresses(self) -> frozenset[str]:
        if self._agents is None:
            # The lookups read every agent once per transaction; the active ones are these.
            self._agents = frozenset(a.email for a in self.lookups.all_agents() if a.active)
        return self._agents

    @property
    def support_addresses(self) -> frozenset[str]:
        if self._support is None:
            rows = self.session.scalars(select(QueueAddress.address))
            self._support = frozenset(rows) | frozenset(self.settings.support_address)
        return self._support

    def queue_for_address(self, address: str) -> Queue | None:
        if address not in self._queues:
            self._queues[address] = queue_for_address(self.session, address)
        return self._queues[address]
