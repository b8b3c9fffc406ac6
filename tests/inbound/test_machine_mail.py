"""Machine mail without the usual headers never opens a ticket nor gets an answer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway import tickets
from gateway.runtime import Runtime
from schema.models import ContactIdentity, InboxItem, OutboxItem, Ticket
from tests.conftest import Ingest
from tests.inbound.machine_mails import OUR_ACK_ID, machine_mails, providers
from tests.inbound.mails import new_request

CASES = machine_mails()


@pytest.mark.parametrize(("raw", "kind", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_machine_mail_opens_no_ticket_and_gets_no_answer(
    runtime: Runtime, ingest: Ingest, raw: bytes, kind: str, word: str
) -> None:
    outcome = ingest(raw)
    assert (outcome.status, outcome.kind) == ("ignored", kind), outcome.reason
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
        item = s.scalars(select(InboxItem)).one()
        assert word in (item.classification_reason or "")


# The events that name the Message-ID of our mail (Postmark's names only its own id).
PROVIDERS = [c for c in providers() if OUR_ACK_ID.encode() in c[1]]


@pytest.mark.parametrize("raw", [c[1] for c in PROVIDERS], ids=[c[0] for c in PROVIDERS])
def test_provider_notification_marks_our_mail_and_the_address(
    runtime: Runtime, ingest: Ingest, raw: bytes
) -> None:
    first = ingest(new_request())
    with runtime.transaction() as s:
        ticket = tickets.get_ticket(s, first.ticket)
        s.add(
            OutboxItem(
                channel="email",
                recipient="bob@example.org",
                template="ack",
                ticket_id=ticket.id,
                email_message_id=OUR_ACK_ID,
                idempotency_key="ack-77",
                status="sent",
            )
        )
        tickets.remember_message_id(
            s, OUR_ACK_ID, ticket, outbound=True, recipient="bob@example.org"
        )
    outcome = ingest(raw)
    assert (outcome.kind, outcome.ticket) == ("bounce", first.ticket)
    with runtime.sessions() as s:
        identity = s.scalars(select(ContactIdentity)).one()
        assert identity.bouncing_since is not None
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        row = s.scalars(select(OutboxItem).where(OutboxItem.idempotency_key == "ack-77")).one()
        assert row.delivery_status == "bounced"
        note = tickets.messages_of(s, tickets.get_ticket(s, first.ticket))[-1]
        assert (note.author_kind, note.internal) == ("system", True)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Paket nicht zugestellt", "Mein Paket wurde nicht zugestellt. Wo ist es?"),
        (
            "Fwd: Your message to users@lists.example.org awaits moderator approval",
            "Why is my mail held? I am a member of that list.",
        ),
        ("SES events", '{"notificationType": "Bounce", "bounce": {"bounceType": "Permanent"}}'),
    ],
    ids=["german-wording", "forwarded-notice", "json-from-a-person"],
)
def test_people_writing_the_same_words_still_open_tickets(
    ingest: Ingest, subject: str, body: str
) -> None:
    outcome = ingest(new_request(subject=subject, body=body))
    assert (outcome.kind, outcome.decision) == ("customer", "new"), outcome.reason
