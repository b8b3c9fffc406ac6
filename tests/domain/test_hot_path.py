"""The per-mail shortcuts of the ingest hot path give the same answers as the long way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway import audit, contacts, events, queues, tickets
from gateway.contacts import contact_for_email
from gateway.events import MessageAdded
from gateway.inbound.breaker import hold_reason
from gateway.runtime import Runtime
from gateway.sla.policies import delete_policy, policy_for, set_policy
from gateway.tickets import NewMessage
from schema.db import allocate_id
from schema.models import AuditEvent, Contact, ContactIdentity, InboxItem, KnownMessageId, Ticket

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _item(session: Session, n: int, sender: str, at: datetime) -> InboxItem:
    item = InboxItem(
        channel="email",
        source="test",
        dedupe_key=f"k{n}",
        raw=b"",
        sender=sender,
        sender_domain=sender.rpartition("@")[2] if sender else None,
        received_at=at,
    )
    session.add(item)
    session.flush()
    return item


def test_breaker_counts_sender_and_domain_in_one_window(session: Session) -> None:
    me = _item(session, 0, "a@loop.example", T0)
    assert hold_reason(session, me, "a@loop.example", 3, T0) is None
    session.commit()  # each transaction reads the counts afresh
    # two by the same sender, one by a colleague, one too old, one elsewhere
    _item(session, 1, "a@loop.example", T0 - timedelta(seconds=10))
    _item(session, 2, "a@loop.example", T0 - timedelta(seconds=20))
    _item(session, 3, "b@loop.example", T0 - timedelta(seconds=30))
    _item(session, 4, "a@loop.example", T0 - timedelta(minutes=2))
    _item(session, 5, "a@other.example", T0)
    session.commit()
    # sender: 2 (< 3); domain: 3 (>= 3), so the domain trips
    assert hold_reason(session, me, "a@loop.example", 3, T0) == (
        "domain loop.example sent more than 3 mails in a minute: held, no notifications"
    )
    session.commit()
    # the sender trips first when both are over
    assert hold_reason(session, me, "a@loop.example", 2, T0) == (
        "sender a@loop.example sent more than 2 mails in a minute: held, no notifications"
    )
    session.commit()
    assert hold_reason(session, me, "a@loop.example", 4, T0) is None
    assert hold_reason(session, me, "", 1, T0) is None
    # an address without a domain part counts by itself only
    assert hold_reason(session, me, "a@", 1, T0) is None


def test_breaker_counts_the_items_of_its_own_batch(session: Session) -> None:
    """Items processed earlier in the same transaction count, without a query each."""
    _item(session, 1, "a@loop.example", T0 - timedelta(seconds=10))
    session.commit()
    batch = [_item(session, n, "", T0) for n in range(2, 6)]  # not processed yet: no sender
    reasons = [hold_reason(session, item, "a@loop.example", 3, T0) for item in batch]
    # 1 in the database, then 2 and 3 from this batch; the third item of the batch trips
    assert reasons[:2] == [None, None]
    assert (
        reasons[2:]
        == ["sender a@loop.example sent more than 3 mails in a minute: held, no notifications"] * 2
    )


def _ticket(session: Session) -> Ticket:
    contact = contact_for_email(session, "bob@example.org", "Bob")
    return tickets.open_ticket(
        session,
        queue=queues.get_queue(session, "default"),
        contact=contact,
        subject="Printer",
        channel="email",
        actor=audit.ADMIN,
    )


def _firsts(session: Session) -> list[bool]:
    return [e.first for e in events.drain(session) if isinstance(e, MessageAdded)]


def test_add_message_first_flag_matches_the_lookup(session: Session) -> None:
    ticket = _ticket(session)
    new = NewMessage(author_kind="customer", channel="email", visible_text="hi")
    tickets.add_message(session, ticket, new, first=True)
    tickets.add_message(session, ticket, new)
    other = _ticket(session)
    tickets.add_message(session, other, new)
    assert _firsts(session) == [True, False, True]


def test_remember_message_id_first_writer_wins(session: Session) -> None:
    one, two = _ticket(session), _ticket(session)
    tickets.remember_message_id(session, "m@example.org", one)
    tickets.remember_message_id(
        session, "m@example.org", two, outbound=True, recipient="x@example.org"
    )
    tickets.remember_message_id(
        session, "n@example.org", two, outbound=True, recipient="x@example.org"
    )
    rows = {
        r.message_id: (r.ticket_id, r.outbound, r.recipient)
        for r in session.scalars(select(KnownMessageId))
    }
    assert rows == {
        "m@example.org": (one.id, False, None),
        "n@example.org": (two.id, True, "x@example.org"),
    }


def test_policy_for_is_kept_per_transaction_and_dropped_on_change(
    session: Session, runtime: Runtime
) -> None:
    normal = policy_for(session, "normal")
    assert normal is not None
    assert normal.first_response == "4h"
    assert policy_for(session, "normal") is normal
    # a change in this session is seen at once
    set_policy(session, normal.name, priority="normal", first_response="2h", resolution="1d")
    assert policy_for(session, "normal").first_response == "2h"  # type: ignore[union-attr]
    delete_policy(session, normal.name)
    assert policy_for(session, "normal") is None
    # a policy made in a savepoint that rolls back is forgotten with it
    try:
        with session.begin_nested():
            set_policy(session, "n2", priority="normal", first_response="1h", resolution="1d")
            assert policy_for(session, "normal") is not None
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    assert policy_for(session, "normal") is None
    session.commit()
    # another process's committed change is seen from the next transaction on
    with runtime.transaction() as other:
        set_policy(other, "n3", priority="normal", first_response="3h", resolution="1d")
    session.commit()
    assert policy_for(session, "normal").name == "n3"  # type: ignore[union-attr]
    session.rollback()
    with runtime.transaction() as other:
        delete_policy(other, "n3")
    assert policy_for(session, "normal") is None


def test_contact_for_creates_contact_and_loaded_identity(session: Session) -> None:
    contact = contacts.contact_for_email(session, "New@Example.org", "New")
    identity = contact.identity("email")
    assert identity is not None
    assert identity.value == "new@example.org"
    assert identity.contact is contact
    assert contact.id is not None, "the id is allocated before the flush"
    assert identity.contact_id == contact.id
    # the same transaction finds it without a flush, as the next mail of a batch would
    assert contacts.contact_for_email(session, "new@example.org") is contact
    session.commit()
    again = contacts.contact_for_email(session, "new@example.org")
    assert again.id == contact.id
    assert again.identity("email").id == identity.id  # type: ignore[union-attr]


def test_contact_for_loses_a_race_to_a_concurrent_writer(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser's transaction fails on the unique identity; nothing of it is stored, and
    the next transaction (the processor's retry) finds the winner."""
    with runtime.transaction() as other:
        winner_id = contacts.contact_for_email(other, "race@example.org", "Winner").id
    # the look-up ran before the winner committed: it saw nothing
    monkeypatch.setattr(contacts, "find_identity", lambda s, kind, value: None)
    contacts.contact_for_email(session, "race@example.org", "Loser")
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    monkeypatch.undo()
    got = contacts.contact_for_email(session, "race@example.org", "Loser")
    assert got.id == winner_id
    session.commit()
    names = session.scalars(select(Contact.name).where(Contact.name.in_(["Winner", "Loser"])))
    assert list(names) == ["Winner"]
    idents = session.scalars(
        select(ContactIdentity.contact_id).where(ContactIdentity.value == "race@example.org")
    )
    assert list(idents) == [winner_id]


def test_contact_for_after_a_rolled_back_savepoint(session: Session) -> None:
    """A mail that made a contact and then failed leaves nothing for the next mail to trip on."""
    savepoint = session.begin_nested()
    contacts.contact_for_email(session, "again@example.org", "Again")
    savepoint.rollback()  # the rest of the pipeline failed
    contact = contacts.contact_for_email(session, "again@example.org", "Again")
    assert contact.identity("email").value == "again@example.org"  # type: ignore[union-attr]
    session.commit()
    rows = session.scalars(
        select(ContactIdentity.contact_id).where(ContactIdentity.value == "again@example.org")
    )
    assert list(rows) == [contact.id]


def test_queued_rows_follow_their_savepoints(session: Session) -> None:
    """Rows queued with add_row commit with their transaction; a savepoint rolled back,
    also by a failed flush inside it, takes exactly the rows queued inside it along."""
    ticket = _ticket(session)
    audit.record(session, ticket, audit.ADMIN, "kept_before")
    with session.begin_nested():
        audit.record(session, ticket, audit.ADMIN, "kept_released")
    savepoint = session.begin_nested()
    audit.record(session, ticket, audit.ADMIN, "dropped_rolled_back")
    savepoint.rollback()
    with pytest.raises(IntegrityError):
        _queue_then_fail_to_flush(session, ticket)
    audit.record(session, ticket, audit.ADMIN, "kept_after")
    session.commit()
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id)
    ).all()
    assert [a for a in actions if a.startswith(("kept", "dropped"))] == [
        "kept_before",
        "kept_released",
        "kept_after",
    ]


def _queue_then_fail_to_flush(session: Session, ticket: Ticket) -> None:
    with session.begin_nested():
        audit.record(session, ticket, audit.ADMIN, "dropped_failed_flush")
        clash = ContactIdentity(  # Bob's address again: the unique identity key is taken
            id=allocate_id(session, ContactIdentity),
            contact_id=ticket.contact_id,
            kind="email",
            value="bob@example.org",
        )
        session.add(clash)
        session.flush()
