"""Ticket events: what happened in a transaction, for the notifications it causes.

Domain operations record events in the transaction's unit of work
(``gateway.unit_of_work``) as they change tickets; before the transaction commits,
:func:`gateway.notify.flush` turns them into outbox rows. So every
change that someone should hear about becomes its notifications in the same transaction,
whichever code path (listener, CLI, worker) made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from gateway.unit_of_work import UnitOfWork

# all: everyone who should hear of it; agents: no automatic answer to the customer
# (list mail); none: stored only (held by the circuit breaker, automatic mail).
Audience = Literal["all", "agents", "none"]


@dataclass(frozen=True, slots=True)
class MessageAdded:
    ticket_id: int
    message_id: int
    first: bool
    audience: Audience = "all"


@dataclass(frozen=True, slots=True)
class StatusChanged:
    ticket_id: int
    old: str
    new: str
    actor: str


@dataclass(frozen=True, slots=True)
class CommandFailed:
    ticket_id: int
    agent_id: int
    message_id: int
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReplyHeld:
    """An agent's mail was kept as an internal note instead of going to the customer.

    ``key`` makes the agent's notice idempotent: one per held message, or one per ticket
    and agent for automatic mail, whose responder would otherwise answer every notice.
    """

    ticket_id: int
    agent_id: int
    message_id: int
    title: str
    reason: str
    key: str


Event = MessageAdded | StatusChanged | CommandFailed | ReplyHeld


def emit(session: Session, event: Event) -> None:
    UnitOfWork.of(session).emit(event)


def drain(session: Session) -> list[Event]:
    """The events recorded so far, removing them from the unit of work."""
    uow = UnitOfWork.of(session)
    drained, uow.events = uow.events, []
    return drained
