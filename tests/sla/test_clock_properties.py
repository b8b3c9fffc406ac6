"""Whatever happens to a ticket, its stored deadlines are the ones computed from creation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from gateway import audit, queues, tickets
from gateway.contacts import contact_for_email
from gateway.sla.deadlines import plan_for_policy, ticket_sla
from gateway.sla.plans import Deadlines, compute_deadlines
from gateway.sla.policies import set_policy

# What can happen next, and how long after the previous step (up to four days).
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["open", "pending", "resolved", "reply", "priority"]),
        st.integers(min_value=0, max_value=4 * 24 * 60),
    ),
    max_size=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    created=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    steps=STEPS,
)
def test_stored_deadlines_equal_the_pure_computation(
    session: Session, created: datetime, steps: list[tuple[str, int]]
) -> None:
    for priority, first, resolution in (("normal", "4h", "2d"), ("urgent", "1h", "8h")):
        set_policy(
            session,
            priority,
            priority=priority,
            first_response=first,
            resolution=resolution,
            hours="Mon-Fri 09:00-12:00,13:00-17:00",
            tz="America/Los_Angeles",
        )
    ticket = tickets.open_ticket(
        session,
        queue=queues.get_queue(session, "default"),
        contact=contact_for_email(session, "bob@example.org"),
        subject="x",
        channel="email",
        actor=audit.ADMIN,
        now=created,
    )
    now = created
    for step, minutes in steps:
        now += timedelta(minutes=minutes)
        if step == "reply":
            answer = tickets.NewMessage(author_kind="agent", channel="cli", visible_text="Hi")
            tickets.add_message(session, ticket, answer, now=now)
        elif step == "priority":
            other = "urgent" if ticket.priority == "normal" else "normal"
            tickets.change_priority(session, ticket, other, actor=audit.ADMIN, now=now)
        elif step in tickets.TRANSITIONS[ticket.status]:
            tickets.change_status(session, ticket, step, actor=audit.ADMIN, now=now)
    sla = ticket_sla(session, ticket)
    assert sla is not None
    assert sla.deadlines == compute_deadlines(
        created,
        plan_for_policy(session, sla.policy),
        sla.first_response_paused,
        sla.resolution_paused,
    )
    assert sla.first_response_paused <= sla.resolution_paused
    assert sla.deadlines == Deadlines(ticket.first_response_due_at, ticket.resolution_due_at)  # type: ignore[arg-type]
    session.rollback()
