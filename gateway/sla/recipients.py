"""Who hears about each escalation level, and by which channel.

- warning: the assignee, or every active agent while the ticket is unassigned;
- breach: the same, plus the policy's ``escalate_to`` addresses;
- breach2: every active manager and admin (the breach's recipients when there are none).

Agents are reached by email, by SMS (those with a phone number; email for the others) or
both, as the policy's ``escalate_by`` says. An ``escalate_to`` address that is not an
agent gets email only, and no signed reply address: it is told, it does not take part.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.lookups import lookups
from gateway.outbox import Recipient
from schema.models import Agent, SlaPolicy, Ticket

MANAGING_ROLES = frozenset({"manager", "admin"})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification to write: a recipient on one channel."""

    channel: str  # email | sms
    recipient: Recipient


def deliveries(session: Session, ticket: Ticket, policy: SlaPolicy, level: str) -> list[Delivery]:
    """The notifications one level of one ticket sends, each address once per channel."""
    active = [a for a in lookups(session).all_agents() if a.active]
    assignee = ticket.assignee if ticket.assignee is not None and ticket.assignee.active else None
    front = [assignee] if assignee is not None else active
    agents: list[Agent] = front
    observers: list[str] = []
    if level in ("breach", "breach2"):
        by_email = {a.email: a for a in active}
        agents = front + [by_email[e] for e in policy.escalate_to if e in by_email]
        observers = [e for e in policy.escalate_to if e not in by_email]
    if level == "breach2":
        managers = [a for a in active if a.role in MANAGING_ROLES]
        if managers:
            agents, observers = managers, []
    found: dict[tuple[str, str], Delivery] = {}
    for agent in agents:
        for channel in _channels(agent, policy.escalate_by):
            address = agent.phone if channel == "sms" else agent.email
            recipient = Recipient(address or "", agent.name, "agent", agent.id)
            found.setdefault((channel, recipient.address), Delivery(channel, recipient))
    for address in observers:
        found.setdefault(("email", address), Delivery("email", Recipient.observer(address)))
    return list(found.values())


def _channels(agent: Agent, escalate_by: str) -> tuple[str, ...]:
    if not agent.phone or escalate_by == "email":
        return ("email",)
    return ("sms",) if escalate_by == "sms" else ("email", "sms")
