"""Ticket operations over a real database: transitions, audit, SLA, merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import agents, audit, queues, tickets
from gateway.contacts import contact_for_email, contact_for_phone
from gateway.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from gateway.tickets import NewMessage
from schema.models import AuditEvent, KnownMessageId, Ticket

ADMIN = audit.ADMIN
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def _open(session: Session, subject: str = "Printer on fire", **kw: object) -> Ticket:
    contact = contact_for_email(session, "Bob@Example.org", "Bob")
    queue = queues.get_queue(session, "default")
    return tickets.open_ticket(
        session, queue=queue, contact=contact, subject=subject, channel="email", actor=ADMIN, **kw
    )


def _actions(session: Session, ticket: Ticket) -> list[tuple[str, str | None, str | None]]:
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == ticket.id)
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    return [(e.action, e.old_value, e.new_value) for e in rows]


def test_open_ticket_gets_reference_policy_deadlines_and_audit(session: Session) -> None:
    ticket = _open(session, now=T0)
    session.commit()
    assert ticket.reference == f"T-{ticket.id:06d}"
    assert ticket.status == "new"
    assert ticket.priority == "normal"
    assert ticket.contact.identities[0].value == "bob@example.org"
    # The seeded "normal" policy is 24x7, 4h first response and 2d resolution.
    assert ticket.first_response_due_at == T0 + timedelta(hours=4)
    assert ticket.resolution_due_at == T0 + timedelta(days=2)
    assert _actions(session, ticket) == [("created", None, "new")]
    assert tickets.get_ticket(session, ticket.reference).id == ticket.id
    assert tickets.get_ticket(session, str(ticket.id)).id == ticket.id


def test_status_transitions_allowed_and_refused(session: Session) -> None:
    ticket = _open(session)
    tickets.change_status(session, ticket, "pending", actor=ADMIN)
    tickets.change_status(session, ticket, "resolved", actor=ADMIN)
    assert ticket.resolved_at is not None
    tickets.change_status(session, ticket, "open", actor=ADMIN)
    assert ticket.resolved_at is None
    tickets.change_status(session, ticket, "closed", actor=ADMIN)
    with pytest.raises(IllegalTransition, match="cannot go from closed to open"):
        tickets.change_status(session, ticket, "open", actor=ADMIN)
    with pytest.raises(InvalidInput, match="unknown status"):
        tickets.change_status(session, ticket, "done", actor=ADMIN)
    statuses = [(a, o, n) for a, o, n in _actions(session, ticket) if a == "status"]
    assert statuses == [
        ("status", "new", "pending"),
        ("status", "pending", "resolved"),
        ("status", "resolved", "open"),
        ("status", "open", "closed"),
    ]


def test_customer_message_reopens_resolved_ticket_but_not_closed(session: Session) -> None:
    ticket = _open(session)
    bob = ticket.contact
    tickets.change_status(session, ticket, "resolved", actor=ADMIN)
    reply = NewMessage(
        author_kind="customer",
        channel="email",
        visible_text="Still broken",
        contact=bob,
        sender="bob@example.org",
        email_message_id="m2@example.org",
    )
    tickets.add_message(session, ticket, reply)
    assert ticket.status == "open"
    assert session.get(KnownMessageId, "m2@example.org").ticket_id == ticket.id
    tickets.change_status(session, ticket, "closed", actor=ADMIN)
    with pytest.raises(IllegalTransition, match="follow-up"):
        tickets.add_message(session, ticket, reply)


def test_agent_reply_records_first_response_once_and_opens(session: Session) -> None:
    ann = agents.add_agent(session, "ann@support.test", "Ann")
    ticket = _open(session, now=T0)
    note = NewMessage(
        author_kind="agent", channel="cli", visible_text="hmm", internal=True, agent=ann
    )
    tickets.add_message(session, ticket, note, now=T0 + timedelta(minutes=5))
    assert ticket.first_responded_at is None, "an internal note is no response to the customer"
    answer = NewMessage(author_kind="agent", channel="email", visible_text="On it", agent=ann)
    tickets.add_message(session, ticket, answer, now=T0 + timedelta(minutes=20))
    tickets.add_message(session, ticket, answer, now=T0 + timedelta(minutes=40))
    assert ticket.first_responded_at == T0 + timedelta(minutes=20)
    assert ticket.status == "open"
    assert [m.internal for m in tickets.messages_of(session, ticket)] == [True, False, False]


def test_pending_pauses_the_sla_clock(session: Session) -> None:
    ticket = _open(session, now=T0)
    due = ticket.resolution_due_at
    tickets.change_status(session, ticket, "pending", actor=ADMIN, now=T0 + timedelta(hours=1))
    tickets.change_status(session, ticket, "open", actor=ADMIN, now=T0 + timedelta(hours=4))
    assert ticket.resolution_due_at == due + timedelta(hours=3)
    assert ticket.first_response_due_at == T0 + timedelta(hours=7)


def test_priority_change_replans_from_creation(session: Session) -> None:
    ticket = _open(session, now=T0)
    tickets.change_priority(session, ticket, "urgent", actor=ADMIN, now=T0 + timedelta(hours=1))
    assert ticket.first_response_due_at == T0 + timedelta(minutes=30)
    with pytest.raises(InvalidInput, match="unknown priority"):
        tickets.change_priority(session, ticket, "whenever", actor=ADMIN)
    assert ("priority", "normal", "urgent") in _actions(session, ticket)


def test_assign_move_tag_note(session: Session) -> None:
    agents.add_agent(session, "ann@support.test", "Ann")
    off = agents.add_agent(session, "off@support.test", "Off")
    agents.set_active(session, off.email, False)
    queues.add_queue(session, "billing", ["billing@example.com"])
    ticket = _open(session)
    tickets.assign(session, ticket, "ANN@support.test", actor=ADMIN)
    assert ticket.assignee.email == "ann@support.test"
    with pytest.raises(InvalidInput, match="disabled"):
        tickets.assign(session, ticket, "off@support.test", actor=ADMIN)
    with pytest.raises(NotFound, match="no agent"):
        tickets.assign(session, ticket, "nobody@support.test", actor=ADMIN)
    tickets.move(session, ticket, "billing", actor=ADMIN)
    tickets.retag(session, ticket, ["vip", "printer"], [], actor=ADMIN)
    tickets.retag(session, ticket, [], ["printer"], actor=ADMIN)
    with pytest.raises(InvalidInput, match="bad tag"):
        tickets.retag(session, ticket, ["no spaces"], [], actor=ADMIN)
    tickets.add_note(session, ticket, None, "called the customer", actor=ADMIN)
    session.commit()
    assert ticket.queue.name == "billing"
    assert ticket.tags == ["vip"]
    actions = [a for a, _, _ in _actions(session, ticket)]
    assert actions == [
        "created",
        "assignee",
        "queue",
        "tag_added",
        "tag_added",
        "tag_removed",
        "note",
        "note_by",
    ]


def test_merge_moves_messages_and_message_ids(session: Session) -> None:
    first, second = _open(session, "A"), _open(session, "B")
    msg = NewMessage(
        author_kind="customer",
        channel="email",
        visible_text="x",
        sender="bob@example.org",
        email_message_id="first@example.org",
    )
    tickets.add_message(session, first, msg)
    tickets.retag(session, first, ["vip"], [], actor=ADMIN)
    tickets.merge(session, first, second, actor=ADMIN)
    session.commit()
    assert first.status == "closed"
    assert first.merged_into_id == second.id
    assert session.get(KnownMessageId, "first@example.org").ticket_id == second.id
    assert [m.visible_text for m in tickets.messages_of(session, second)] == ["x"]
    assert second.tags == ["vip"]
    assert tickets.follow_merges(session, first).id == second.id
    with pytest.raises(IllegalTransition):
        tickets.merge(session, second, first, actor=ADMIN)
    with pytest.raises(InvalidInput):
        tickets.merge(session, second, second, actor=ADMIN)


def test_bad_references_and_unknown_tickets(session: Session) -> None:
    with pytest.raises(InvalidInput, match="not a ticket reference"):
        tickets.get_ticket(session, "ticket-seven")
    with pytest.raises(NotFound, match="no ticket T-000999"):
        tickets.get_ticket(session, "T-999")


def test_contacts_are_unique_per_identity(session: Session) -> None:
    a = contact_for_email(session, "Carol@Example.org")
    b = contact_for_email(session, "carol@example.org", "Carol")
    assert a.id == b.id
    assert b.name == "Carol"
    phone = contact_for_phone(session, "+44 20 7946 0958")
    assert phone.identities[0].value == "+442079460958"
    with pytest.raises(InvalidInput):
        contact_for_phone(session, "+1 555 0000 1")
    with pytest.raises(InvalidInput):
        contact_for_email(session, "not-an-address")


def test_queue_routing_and_conflicts(session: Session) -> None:
    assert queues.queue_for_address(session, "SUPPORT@example.com").name == "default"
    queues.add_queue(session, "sales", ["sales@example.com"], sms_number="+14155550100")
    with pytest.raises(Conflict, match="already routes"):
        queues.add_queue(session, "other", ["Sales@example.com"])
    with pytest.raises(Conflict, match="already exists"):
        queues.add_queue(session, "sales")
    assert queues.queue_for_number(session, "+14155550100").name == "sales"
    queues.update_queue(session, "sales", remove_addresses=["sales@example.com"], sms_number="")
    assert queues.queue_for_address(session, "sales@example.com") is None
    assert queues.queue_for_number(session, "+14155550100") is None


def test_business_day_targets_count_open_days(session: Session) -> None:
    from gateway.sla.policies import set_policy

    set_policy(
        session,
        "normal",
        priority="normal",
        first_response="4h",
        resolution="2d",
        hours="Mon-Fri 09:00-17:00",
        tz="Europe/Berlin",
    )
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
    ticket = _open(session, now=friday)
    # 4 business hours: 1h on Friday, 3h on Monday -> Monday 12:00 Berlin (11:00 UTC).
    assert ticket.first_response_due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
    # 2 business days: the same point of the working day two open days later (Tuesday).
    assert ticket.resolution_due_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
