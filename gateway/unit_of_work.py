"""The unit of work: one transaction and what it shares between the items it handles.

It owns the transaction's look-ups (``gateway.lookups``), its ticket events (for
``gateway.notify``), the SLA policies it read, and caches of what does not change under
a running batch (agents, support addresses, queues). The pipeline's steps get it
explicitly; domain functions that are handed only a session reach the same object with
:meth:`UnitOfWork.of`. It lives in the transaction's state (``schema.db``): the ids drawn
ahead and the rows queued for bulk inserts are kept beside it, and all of it ends with
the transaction.

Every write of one item happens inside :meth:`UnitOfWork.savepoint`: a failure there
rolls back the item's rows, forgets the events it recorded and the look-ups that may
have seen its writes, and :meth:`UnitOfWork.write` sends what was queued before the
savepoint ends, so no write of the item is left for the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.lookups import Lookups
from gateway.queues import DEFAULT_QUEUE, get_queue, queue_for_address, queue_for_number
from schema.db import transaction_state, write_rows
from schema.models import Queue, QueueAddress, SlaPolicy

if TYPE_CHECKING:
    from gateway.events import Event
    from gateway.sla.plans import SlaPlan


class UnitOfWork:
    """One transaction's session, and the state its items share.

    The caches live as long as the transaction: agents, support addresses and queues do
    not change under a running batch (admins change them from the CLI, in transactions of
    their own), and never across transactions.
    """

    def __init__(self, session: Session, settings: Settings | None = None) -> None:
        self.session = session
        self._settings = settings
        self.lookups = Lookups(session)
        self.events: list[Event] = []
        # gateway.sla: policies by (queue id, priority), their plans by policy id
        self.policies: dict[tuple[int | None, str], SlaPolicy | None] = {}
        self.sla_plans: dict[int, SlaPlan] = {}
        self._agents: frozenset[str] | None = None
        self._support: frozenset[str] | None = None
        self._queues: dict[str, Queue | None] = {}
        self._numbers: dict[str, Queue | None] = {}
        self._default_queue: Queue | None = None

    @classmethod
    def of(cls, session: Session, settings: Settings | None = None) -> UnitOfWork:
        """The unit of work of the session's current transaction, created on first use."""
        state = transaction_state(session)
        uow = state.unit_of_work
        if not isinstance(uow, UnitOfWork):
            uow = cls(session, settings)
            state.unit_of_work = uow
        elif settings is not None:
            uow._settings = settings
        return uow

    @property
    def settings(self) -> Settings:
        assert self._settings is not None, "a unit of work made without settings"
        return self._settings

    def emit(self, event: Event) -> None:
        """Record a ticket event; the pipeline's notify step turns it into outbox rows."""
        self.events.append(event)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint whose failure also forgets the events recorded inside it.

        The rows queued inside it go with it (``schema.db``), as do the look-ups and the
        policies read (:meth:`savepoint_ended`, :meth:`rolled_back`).
        """
        events = len(self.events)
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            del self.events[events:]
            raise

    def savepoint_ended(self) -> None:
        # Had it been rolled back, what the look-ups remember might be gone: forgetting is
        # always safe, only slower (the next question is asked of the database again).
        self.lookups = Lookups(self.session)

    def rolled_back(self) -> None:
        # A rolled-back savepoint may have undone a policy or holiday change.
        self.policies.clear()
        self.sla_plans.clear()

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

    def queue_for_number(self, number: str) -> Queue | None:
        """The queue whose SMS number this is."""
        if number not in self._numbers:
            self._numbers[number] = queue_for_number(self.session, number)
        return self._numbers[number]

    @property
    def default_queue(self) -> Queue:
        if self._default_queue is None:
            self._default_queue = get_queue(self.session, DEFAULT_QUEUE)
        return self._default_queue
