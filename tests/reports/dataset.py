"""A small week of tickets with every time set by hand, and the figures it must give.

``NOW`` is Friday 2026-11-20 12:00 UTC. Two policies: ``urgent`` (24x7, first response
1h, resolution 8h, warning at 80%) and ``normal`` (Mon-Fri 09:00-17:00 UTC, 4h and 2
business days, warning at 50%). The expected figures in the tests are worked out from
the table below by hand (business hours for ``normal``: Mon 09:00 -> Tue 10:00 is 9h).

| ticket | policy | agent | channel | status | created | responded | resolved |
| T1 | urgent | ann | email | resolved | Thu 10:00 | 10:30 (due 11:00) | 16:00 (due 18:00) |
| T2 | urgent | ann | sms | resolved | Thu 12:00 | 14:00 (due 13:00) | 22:00 (due 20:00) |
| T3 | urgent | bob | email | open | Fri 10:00 | - (due 11:00: breached) | - |
| T4 | urgent | bob | email | open | Fri 04:30 | 05:00 | - (due 12:30: at risk) |
| T5 | normal | ann | email | resolved | Mon 09:00 | 11:00 (due 13:00) | Tue 10:00 (due Wed 09:00) |
| T6 | normal | - | email | new (vip) | Thu 16:30 | - (due Fri 12:30: at risk) | - |
| T7 | urgent | bob | email | open | Nov 1 | - (breached, outside the week) | - |
| T8 | normal | ann | email | pending | Wed 09:00 | 09:30 | - (due Fri 09:00, paused Thu 10:00) |

Surveys: T1 asked Thu 16:00, rated 5; T2 asked Thu 22:00, rated 2; T5 asked Tue 10:00,
no answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway import queues
from gateway.agents import add_agent
from gateway.contacts import contact_for_email
from gateway.runtime import Runtime
from gateway.sla.policies import set_policy
from schema.db import allocate_id
from schema.models import Agent, SlaPolicy, Ticket

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def load(runtime: Runtime) -> None:
    with runtime.transaction() as s:
        urgent = set_policy(s, "urgent", priority="urgent", first_response="1h", resolution="8h")
        normal = set_policy(
            s,
            "normal",
            priority="normal",
            first_response="4h",
            resolution="2d",
            hours="Mon-Fri 09:00-17:00",
            warn_at=50,
        )
        ann = add_agent(s, "ann@example.com", "Ann")
        bob = add_agent(s, "bob@example.com", "Bob")
        queues.add_queue(s, "vip", ["vip@example.com"])
        for row in _rows(urgent, normal, ann, bob):
            add(runtime, s, **row)


def add(runtime: Runtime, s: Any, **fields: Any) -> Ticket:
    """A ticket exactly as given (the times a real one would have got on its way)."""
    queue = queues.get_queue(s, fields.pop("queue", "default"))
    contact = contact_for_email(s, fields.pop("customer", "carol@example.org"))
    ticket = Ticket(
        id=allocate_id(s, Ticket),
        queue_id=queue.id,
        contact_id=contact.id,
        subject="Report data",
        updated_at=fields["created_at"],
        **fields,
    )
    s.add(ticket)
    s.flush()
    return ticket


def _rows(urgent: SlaPolicy, normal: SlaPolicy, ann: Agent, bob: Agent) -> list[dict[str, Any]]:
    u = {"sla_policy_id": urgent.id, "priority": "urgent"}
    n = {"sla_policy_id": normal.id, "priority": "normal"}
    return [
        {**u, "assignee_id": ann.id, "channel": "email", "status": "resolved",
         "created_at": at(19, 10), "first_response_due_at": at(19, 11),
         "first_responded_at": at(19, 10, 30), "resolution_due_at": at(19, 18),
         "resolved_at": at(19, 16), "csat_asked_at": at(19, 16), "satisfaction_rating": 5},
        {**u, "assignee_id": ann.id, "channel": "sms", "status": "resolved",
         "created_at": at(19, 12), "first_response_due_at": at(19, 13),
         "first_responded_at": at(19, 14), "resolution_due_at": at(19, 20),
         "resolved_at": at(19, 22), "csat_asked_at": at(19, 22), "satisfaction_rating": 2},
        {**u, "assignee_id": bob.id, "channel": "email", "status": "open",
         "created_at": at(20, 10), "first_response_due_at": at(20, 11),
         "resolution_due_at": at(20, 18)},
        {**u, "assignee_id": bob.id, "channel": "email", "status": "open",
         "created_at": at(20, 4, 30), "first_response_due_at": at(20, 5, 30),
         "first_responded_at": at(20, 5), "resolution_due_at": at(20, 12, 30)},
        {**n, "assignee_id": ann.id, "channel": "email", "status": "resolved",
         "created_at": at(16, 9), "first_response_due_at": at(16, 13),
         "first_responded_at": at(16, 11), "resolution_due_at": at(18, 9),
         "resolved_at": at(17, 10), "csat_asked_at": at(17, 10)},
        {**n, "queue": "vip", "channel": "email", "status": "new",
         "created_at": at(19, 16, 30), "first_response_due_at": at(20, 12, 30),
         "resolution_due_at": at(23, 16, 30)},
        {**u, "assignee_id": bob.id, "channel": "email", "status": "open",
         "created_at": at(1, 8), "first_response_due_at": at(1, 9),
         "resolution_due_at": at(1, 16)},
        {**n, "assignee_id": ann.id, "channel": "email", "status": "pending",
         "created_at": at(18, 9), "first_response_due_at": at(18, 13),
         "first_responded_at": at(18, 9, 30), "resolution_due_at": at(20, 9),
         "sla_paused_at": at(19, 10)},
    ]  # fmt: skip
