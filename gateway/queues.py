"""Queues: support addresses and SMS numbers, and the agents who work them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.agents import get_agent
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.identities import normalize_email, normalize_phone
from schema.models import Queue, QueueAddress
from schema.models.queues import PRIORITIES

DEFAULT_QUEUE = "default"


def check_priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise InvalidInput(f"unknown priority {priority!r}: use one of {', '.join(PRIORITIES)}")
    return priority


def find_queue(session: Session, name: str) -> Queue | None:
    return session.scalars(select(Queue).where(Queue.name == name)).one_or_none()


def get_queue(session: Session, name: str) -> Queue:
    queue = find_queue(session, name)
    if queue is None:
        raise NotFound(f"no queue named {name!r}")
    return queue


def _claim_addresses(session: Session, queue: Queue, addresses: Iterable[str]) -> None:
    for raw in addresses:
        address = normalize_email(raw)
        owner = queue_for_address(session, address)
        if owner is not None and owner.id != queue.id:
            raise Conflict(f"{address} already routes to queue {owner.name!r}")
        if owner is None:
            queue.addresses.append(QueueAddress(address=address))


def _claim_number(session: Session, queue: Queue, number: str | None) -> None:
    if not number:
        queue.sms_number = None
        return
    e164 = normalize_phone(number)
    owner = queue_for_number(session, e164)
    if owner is not None and owner.id != queue.id:
        raise Conflict(f"{e164} already routes to queue {owner.name!r}")
    queue.sms_number = e164


def add_queue(
    session: Session,
    name: str,
    addresses: Iterable[str] = (),
    sms_number: str | None = None,
    default_priority: str = "normal",
    csat: bool = True,
) -> Queue:
    name = name.strip()
    if not name:
        raise InvalidInput("a queue needs a name")
    if find_queue(session, name) is not None:
        raise Conflict(f"queue {name!r} already exists")
    queue = Queue(name=name, default_priority=check_priority(default_priority), csat=csat)
    session.add(queue)
    _claim_addresses(session, queue, addresses)
    _claim_number(session, queue, sms_number)
    session.flush()
    return queue


def update_queue(
    session: Session,
    name: str,
    *,
    add_addresses: Iterable[str] = (),
    remove_addresses: Iterable[str] = (),
    sms_number: str | None = None,
    default_priority: str | None = None,
    new_name: str | None = None,
    csat: bool | None = None,
) -> Queue:
    """Change a queue. ``sms_number=""`` removes the number; ``None`` leaves it (as for
    every other option: ``csat=None`` leaves the survey switch as it is)."""
    queue = get_queue(session, name)
    for raw in remove_addresses:
        address = normalize_email(raw)
        row = next((a for a in queue.addresses if a.address == address), None)
        if row is None:
            raise NotFound(f"{address} does not route to queue {queue.name!r}")
        queue.addresses.remove(row)
    _claim_addresses(session, queue, add_addresses)
    if sms_number is not None:
        _claim_number(session, queue, sms_number)
    if default_priority is not None:
        queue.default_priority = check_priority(default_priority)
    if csat is not None:
        queue.csat = csat
    if new_name is not None and new_name.strip() != queue.name:
        if find_queue(session, new_name.strip()) is not None:
            raise Conflict(f"queue {new_name.strip()!r} already exists")
        queue.name = new_name.strip()
    session.flush()
    return queue


def add_member(session: Session, name: str, email: str) -> Queue:
    queue, agent = get_queue(session, name), get_agent(session, email)
    if agent not in queue.members:
        queue.members.append(agent)
    session.flush()
    return queue


def remove_member(session: Session, name: str, email: str) -> Queue:
    queue, agent = get_queue(session, name), get_agent(session, email)
    if agent not in queue.members:
        raise NotFound(f"{agent.email} is not a member of queue {queue.name!r}")
    queue.members.remove(agent)
    session.flush()
    return queue


def list_queues(session: Session) -> list[Queue]:
    return list(session.scalars(select(Queue).order_by(Queue.name)))


def queue_for_address(session: Session, address: str) -> Queue | None:
    return session.scalars(
        select(Queue).join(QueueAddress).where(QueueAddress.address == address.lower())
    ).one_or_none()


def queue_for_number(session: Session, number: str) -> Queue | None:
    return session.scalars(select(Queue).where(Queue.sms_number == number)).one_or_none()


def ensure_default_queue(session: Session, support_addresses: Iterable[str]) -> Queue:
    """Make sure the ``default`` queue exists and every configured address routes somewhere.

    Addresses already routed to another queue stay there: an admin's routing wins over the
    seed from ``TICKETGW_SUPPORT_ADDRESS``.
    """
    queue = find_queue(session, DEFAULT_QUEUE)
    if queue is None:
        queue = Queue(name=DEFAULT_QUEUE, default_priority="normal")
        session.add(queue)
    for raw in support_addresses:
        address = normalize_email(raw)
        if queue_for_address(session, address) is None:
            queue.addresses.append(QueueAddress(address=address))
            session.flush()
    session.flush()
    return queue


def reply_address(queue: Queue, default: str) -> str:
    """The address a queue's mail comes from and replies go to: its first, else ``default``."""
    return queue.addresses[0].address if queue.addresses else default
