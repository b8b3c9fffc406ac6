"""The conversation matrix: replies from every client style land on their ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway import tickets
from gateway.agents import add_agent
from gateway.audit import ADMIN
from gateway.queues import add_queue
from gateway.runtime import Runtime
from gateway.tokens import ReplyToken, token_address
from schema.models import InboxItem, Message, Ticket
from tests.conftest import Ingest
from tests.inbound.mails import STYLES, new_request, reply, thread_index


def _ticket_count(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return len(s.scalars(select(Ticket.id)).all())


def _messages(runtime: Runtime, ref: str) -> list[Message]:
    with runtime.sessions() as s:
        return tickets.messages_of(s, tickets.get_ticket(s, ref))


def _token_address(runtime: Runtime, ref: str, secret_ok: bool = True) -> str:
    with runtime.sessions() as s:
        ticket = tickets.get_ticket(s, ref)
        token = ReplyToken(ticket.id, "contact", ticket.contact_id)
    secret = runtime.settings.secret_key if secret_ok else "not-our-secret"
    return token_address(secret, "support@example.com", token)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("how", ["references", "token", "both"])
def test_reply_threads_and_shows_only_the_new_text(
    runtime: Runtime, ingest: Ingest, style: str, how: str
) -> None:
    original = new_request()
    first = ingest(original)
    assert first.decision == "new"
    to = _token_address(runtime, first.ticket) if how in {"token", "both"} else None
    answer = reply(
        style,
        original,
        "Thanks, it is out now.",
        to=to or "support@example.com",
        with_references=how in {"references", "both"},
        subject="Re: something else entirely",
    )
    second = ingest(answer)
    assert (second.decision, second.ticket) == ("reply", first.ticket), second.reason
    assert _ticket_count(runtime) == 1
    texts = [m.visible_text for m in _messages(runtime, first.ticket)]
    assert texts == ["My printer is on fire.\nPlease help.", "Thanks, it is out now."]
    full = _messages(runtime, first.ticket)[1].full_text
    assert "My printer is on fire." in full, "the quoted history is kept in the full text"


def test_third_mail_threads_through_references_chain(runtime: Runtime, ingest: Ingest) -> None:
    original = new_request()
    first = ingest(original)
    middle = reply("gmail", original, "second")  # never reaches us (sent to a colleague)
    third = reply("gmail", middle, "third")
    third.replace_header("In-Reply-To", "<unknown@elsewhere.example>")
    outcome = ingest(third)
    assert outcome.ticket == first.ticket
    assert "references our message" in outcome.reason


def test_forged_token_is_ignored_not_trusted(runtime: Runtime, ingest: Ingest) -> None:
    victim = ingest(new_request(sender="victim@example.org"))
    forged = _token_address(runtime, victim.ticket, secret_ok=False)
    attack = new_request(sender="mallory@evil.example", to=forged, subject="hello")
    outcome = ingest(attack)
    assert outcome.decision == "new"
    assert outcome.ticket != victim.ticket
    assert "failed verification" in outcome.reason


def test_subject_tag_threads_only_for_participants(runtime: Runtime, ingest: Ingest) -> None:
    first = ingest(new_request())
    own = ingest(new_request(subject=f"More info [{first.ticket}]"))
    assert own.ticket == first.ticket
    hijack = ingest(new_request(sender="mallory@evil.example", subject=f"Re: [{first.ticket}]"))
    assert hijack.decision == "new"
    assert "not a participant" in hijack.reason
    with runtime.transaction() as s:
        add_agent(s, "ann@support.test", "Ann")
    by_agent = ingest(new_request(sender="ann@support.test", subject=f"[{first.ticket}] note"))
    assert by_agent.ticket == first.ticket


def test_outlook_thread_index_threads_for_the_same_sender(runtime: Runtime, ingest: Ingest) -> None:
    conversation = bytes(range(22))
    original = new_request(Thread_Index=thread_index(conversation))
    first = ingest(original)
    later = reply(
        "outlook",
        original,
        "any news?",
        with_references=False,
        subject="RE: printer",
        thread_index=thread_index(conversation, replies=2),
    )
    assert ingest(later).ticket == first.ticket
    stranger = reply(
        "outlook",
        original,
        "me too",
        with_references=False,
        subject="RE: x",
        sender="eve@example.net",
        thread_index=thread_index(conversation, 1),
    )
    assert ingest(stranger).decision == "new"


def test_reply_to_resolved_reopens_and_to_closed_opens_follow_up(
    runtime: Runtime, ingest: Ingest
) -> None:
    original = new_request()
    first = ingest(original)
    with runtime.transaction() as s:
        tickets.change_status(s, tickets.get_ticket(s, first.ticket), "resolved", actor=ADMIN)
    again = ingest(reply("gmail", original, "it is back"))
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).status == "open"
    assert again.ticket == first.ticket
    with runtime.transaction() as s:
        tickets.change_status(s, tickets.get_ticket(s, first.ticket), "closed", actor=ADMIN)
    late = ingest(reply("gmail", original, "and again"))
    assert late.decision == "new"
    assert late.ticket != first.ticket
    with runtime.sessions() as s:
        follow_up = tickets.get_ticket(s, late.ticket)
        assert follow_up.follows_up_id == tickets.get_ticket(s, first.ticket).id
    assert "closed" in late.reason


def test_reply_to_merged_ticket_lands_on_the_merge_target(runtime: Runtime, ingest: Ingest) -> None:
    a_mail, b_mail = new_request(subject="A"), new_request(subject="B")
    a, b = ingest(a_mail), ingest(b_mail)
    with runtime.transaction() as s:
        tickets.merge(
            s, tickets.get_ticket(s, a.ticket), tickets.get_ticket(s, b.ticket), actor=ADMIN
        )
    assert ingest(reply("gmail", a_mail, "hello?")).ticket == b.ticket


def test_from_decides_identity_never_reply_to(runtime: Runtime, ingest: Ingest) -> None:
    first = ingest(new_request())
    phish = new_request(
        sender="mallory@evil.example", subject=f"[{first.ticket}]", Reply_To="bob@example.org"
    )
    assert ingest(phish).decision == "new"


def test_new_ticket_lands_in_the_queue_of_the_address(runtime: Runtime, ingest: Ingest) -> None:
    with runtime.transaction() as s:
        add_queue(s, "billing", ["billing@example.com"])
    outcome = ingest(new_request(to="Billing@Example.com, support@example.com"))
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, outcome.ticket).queue.name == "billing"


def test_every_decision_is_stored_with_its_reason(runtime: Runtime, ingest: Ingest) -> None:
    original = new_request()
    ingest(original)
    ingest(reply("gmail", original, "ok"))
    with runtime.sessions() as s:
        rows = s.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [(r.classification, r.thread_decision) for r in rows] == [
            ("customer", "new"),
            ("customer", "reply"),
        ]
        assert all(r.thread_reason and r.classification_reason for r in rows)


def test_duplicate_delivery_yields_one_message(runtime: Runtime, ingest: Ingest) -> None:
    mail = new_request()
    first = ingest(mail)
    assert ingest(mail).status == "duplicate"
    # Same Message-ID arriving by another road (different bytes: another Received line).
    relayed = b"Received: from mx2.example.org\r\n" + mail.as_bytes()
    assert ingest(relayed).status == "duplicate"
    assert len(_messages(runtime, first.ticket)) == 1
