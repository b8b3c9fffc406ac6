"""A batch of mails in one transaction ends exactly as the same mails one at a time would.

``mail ingest`` and the listener's processor store up to 200 mails per transaction, with
their reads prefetched and their writes flushed once. A reply in the same batch as its
original must still find it, a bad mail must not take the others down with it, and mails
parsed ahead in another process must be stored as if parsed here.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway import contacts
from gateway.inbound.parse_ahead import parse_ahead
from gateway.mail.parse import parse_mail
from gateway.pipeline.batch import ingest_batch
from gateway.runtime import Runtime
from schema.models import (
    AuditEvent,
    ContactIdentity,
    InboxItem,
    KnownMessageId,
    Message,
    OutboxItem,
    Ticket,
)
from tests.inbound.mails import new_request, reply, thread_index

NO_FROM = b"To: support@example.com\r\nSubject: who am I\r\n\r\nno sender at all\r\n"


def _raw(mail: EmailMessage) -> bytes:
    return mail.as_bytes()


def test_a_reply_threads_onto_an_original_of_the_same_batch(runtime: Runtime) -> None:
    bob = new_request("bob@example.org", subject="Printer on fire")
    ann = new_request("ann@example.net", subject="Invoice missing", name="Ann Smith")
    bob_again = reply("gmail", bob, "Still burning.")
    ann_no_refs = reply(
        "outlook", ann, "Any news?", sender="ann@example.net", with_references=False
    )
    conversation = b"\x01" * 22
    carol = new_request(
        "carol@example.com", subject="Login", Thread_Index=thread_index(conversation)
    )
    carol_outlook = reply(
        "outlook",
        carol,
        "Tried again.",
        sender="carol@example.com",
        with_references=False,
        subject="RE: Login",
        thread_index=thread_index(conversation, 1),
    )
    mails = [bob, ann, bob_again, ann_no_refs, carol, carol_outlook]
    with runtime.transaction() as session:
        outcomes = ingest_batch(session, runtime.settings, [(_raw(m), "test") for m in mails])
    assert [o.status for o in outcomes] == ["done"] * 6
    assert [o.new_ticket for o in outcomes] == [True, True, False, False, True, False]
    assert outcomes[2].ticket == outcomes[0].ticket
    assert "references our message" in outcomes[2].reason
    # Without headers, tokens or a tag, Ann's bare "Re:" threads by its subject onto the
    # ticket the same batch opened, as it would one at a time; Carol's Outlook reply
    # threads by its conversation.
    assert outcomes[3].ticket == outcomes[1].ticket
    assert "subject match from participant" in outcomes[3].reason
    assert outcomes[5].ticket == outcomes[4].ticket
    assert "Thread-Index" in outcomes[5].reason
    with runtime.sessions() as session:
        bobs = session.scalars(
            select(Message.visible_text)
            .join(Ticket)
            .where(Ticket.subject == "Printer on fire")
            .order_by(Message.id)
        ).all()
        assert bobs == ["My printer is on fire.\nPlease help.", "Still burning."]
        # every stored Message-ID maps to its ticket, inbound and our own notifications
        known = session.scalar(select(func.count()).select_from(KnownMessageId))
        messages = session.scalar(select(func.count()).select_from(Message))
        outbox = session.scalar(select(func.count()).select_from(OutboxItem))
        assert known == messages + outbox
        # one acknowledgement per new ticket, and the audit trail of each ticket
        acks = session.scalars(select(OutboxItem.recipient).where(OutboxItem.template == "ack"))
        assert sorted(acks) == sorted(["bob@example.org", "ann@example.net", "carol@example.com"])
        created = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "created")
        )
        assert created == 3


def test_a_bad_mail_is_parked_and_the_rest_of_its_batch_is_stored(runtime: Runtime) -> None:
    bob = new_request("bob@example.org")
    mails = [_raw(bob), NO_FROM, _raw(reply("apple", bob, "Hello?")), _raw(bob)]
    with runtime.transaction() as session:
        outcomes = ingest_batch(session, runtime.settings, [(m, "test") for m in mails])
    assert [o.status for o in outcomes] == ["done", "failed", "done", "duplicate"]
    assert "no From address" in outcomes[1].reason
    assert outcomes[2].ticket == outcomes[0].ticket
    with runtime.sessions() as session:
        items = session.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [i.status for i in items] == ["done", "failed", "done"]
        assert items[1].failed_step == "store"
        assert items[1].attempts == 1
        # the failed attempt left nothing behind: one ticket, two messages, one ack
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        acks = session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.template == "ack")
        )
        assert acks == 1


def test_parse_ahead_keeps_order_and_gives_what_parse_mail_gives() -> None:
    mails = [
        (_raw(new_request(f"user{n}@example.org", subject=f"n{n}")), f"m{n}") for n in range(7)
    ]
    batches = [mails[i : i + 2] for i in range(0, len(mails), 2)]
    for processes in (0, 1):
        seen = list(parse_ahead(iter(batches), processes))
        assert [batch for batch, _ in seen] == batches
        for batch, parsed in seen[1:] if processes else []:
            assert parsed is not None
            assert [p.message for p in parsed] == [parse_mail(raw).message for raw, _ in batch]
            assert [p.mime["From"] for p in parsed] == [
                parse_mail(raw).mime["From"] for raw, _ in batch
            ]
        # the first batch is parsed by the caller while the helper starts
        assert seen[0][1] is None


def test_mails_parsed_ahead_are_stored_like_mails_parsed_here(runtime: Runtime) -> None:
    bob = new_request("bob@example.org")
    raws = [(_raw(bob), "a"), (_raw(reply("german", bob, "Danke, geht wieder.")), "b")]
    parsed = [parse_mail(raw) for raw, _ in raws]
    with runtime.transaction() as session:
        outcomes = ingest_batch(session, runtime.settings, raws, parsed)
    assert [o.status for o in outcomes] == ["done", "done"]
    assert outcomes[1].ticket == outcomes[0].ticket
    with runtime.sessions() as session:
        texts = session.scalars(select(Message.visible_text).order_by(Message.id)).all()
    assert texts[1] == "Danke, geht wieder."


def test_a_mail_failing_at_the_flush_keeps_the_rows_of_the_mails_before_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is redone mail by mail; a failed flush of the second mail must not drop the
    first mail's queued audit events, notifications and Message-IDs."""
    with runtime.transaction() as session:  # Carol is a known customer
        ingest_batch(session, runtime.settings, [(_raw(new_request("carol@example.com")), "t")])
    real = contacts.find_identity

    def stale(session: Session, kind: str, value: str) -> ContactIdentity | None:
        # as if a concurrent processor had added Carol a moment ago: her identity clashes
        return None if value == "carol@example.com" else real(session, kind, value)

    monkeypatch.setattr(contacts, "find_identity", stale)
    mails = [new_request("dave@example.org", subject="Dave's"), new_request("carol@example.com")]
    with runtime.transaction() as session:
        outcomes = ingest_batch(session, runtime.settings, [(_raw(m), "t") for m in mails])
    assert [o.status for o in outcomes] == ["done", "failed"]
    assert "IntegrityError" in outcomes[1].reason
    with runtime.sessions() as session:
        dave = session.scalars(select(Ticket).where(Ticket.subject == "Dave's")).one()
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.ticket_id == dave.id)
        ).all()
        assert sorted(actions) == ["created", "message"]
        templates = session.scalars(
            select(OutboxItem.template).where(OutboxItem.ticket_id == dave.id)
        ).all()
        assert "ack" in templates
        known = session.scalars(
            select(KnownMessageId.message_id).where(KnownMessageId.ticket_id == dave.id)
        ).all()
        assert str(mails[0]["Message-ID"]).strip("<>") in known
