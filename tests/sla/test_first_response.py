"""The first-response clock stops at the first agent reply relayed to the customer.

Driven through the real pipeline: the agent answers the new-ticket notification from a
mail client, as in ``tests/notify``. A note, an automatic mail and a held reply leave the
clock running; the reply that is relayed stops it.
"""

from __future__ import annotations

from sqlalchemy import select

from gateway import tickets
from gateway.agents import add_agent
from gateway.runtime import Runtime
from schema.models import AuditEvent, Message, OutboxItem
from tests.conftest import Ingest
from tests.inbound.mails import new_request

ANN = "ann@support.test"


def _notice(runtime: Runtime) -> OutboxItem:
    with runtime.sessions() as s:
        return s.scalars(
            select(OutboxItem).where(
                OutboxItem.template == "new_ticket", OutboxItem.recipient == ANN
            )
        ).one()


def _answer(notice: OutboxItem, text: str, **headers: str) -> bytes:
    """Ann's mail client answering the notification (its Reply-To carries her token)."""
    mail = new_request(
        sender=ANN,
        name="Ann",
        to=notice.context["headers"]["Reply-To"],
        subject=f"Re: {notice.context['vars']['ticket']['subject']}",
        body=text,
        **headers,
    )
    mail["In-Reply-To"] = notice.context["headers"]["Message-ID"]
    return mail.as_bytes()


def _clock(runtime: Runtime, reference: str) -> tuple[object, list[tuple[bool, str | None]]]:
    """The ticket's first response and its messages' (internal, held reason)."""
    with runtime.sessions() as s:
        ticket = tickets.get_ticket(s, reference)
        messages = [(m.internal, m.held_reason) for m in tickets.messages_of(s, ticket)]
        return ticket.first_responded_at, messages


def test_only_a_relayed_agent_reply_stops_the_first_response_clock(
    runtime: Runtime, ingest: Ingest
) -> None:
    with runtime.transaction() as s:
        add_agent(s, ANN, "Ann")
    opened = ingest(new_request())
    reference = opened.ticket
    assert reference is not None
    notice = _notice(runtime)

    ingest(_answer(notice, "#note\nLooks like the fuser again."))
    ingest(_answer(notice, "I am out of the office until Monday.", Auto_Submitted="auto-replied"))
    ingest(_answer(notice, "> My printer is on fire."))  # nothing of her own: held
    responded, messages = _clock(runtime, reference)
    assert responded is None
    assert [internal for internal, _ in messages] == [False, True, True, True]
    assert str(messages[2][1]).startswith("automatic mail")
    assert "no words of its own" in str(messages[3][1])

    ingest(_answer(notice, "Unplug it, please."))
    ingest(_answer(notice, "And call us back."))
    with runtime.sessions() as s:
        ticket = tickets.get_ticket(s, reference)
        relayed = s.scalars(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.internal.is_(False))
            .where(Message.author_kind == "agent")
            .order_by(Message.id)
        ).first()
        assert relayed is not None
        assert relayed.visible_text == "Unplug it, please."
        assert ticket.first_responded_at == relayed.created_at
        first_responses = s.scalars(
            select(AuditEvent.new_value).where(
                AuditEvent.ticket_id == ticket.id, AuditEvent.action == "first_response"
            )
        ).all()
        assert first_responses == [relayed.created_at.isoformat()]
        assert ticket.first_responded_at <= ticket.first_response_due_at  # type: ignore[operator]
