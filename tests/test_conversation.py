"""A whole conversation through real sockets: customer mail in over SMTP, notifications out
through the workers into a real SMTP sink, the customer's and the agent's mail clients
replying to what they received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway import tickets
from gateway.mail.quotes import REPLY_MARKER
from tests.inbound.mails import new_request
from tests.live import Live, answer, live_gateway, received, send


@pytest.fixture
def live(env: dict[str, str]) -> Iterator[Live]:
    with live_gateway(env, {"ann@support.test": "Ann Agent"}) as running:
        yield running


def test_customer_agent_conversation(live: Live) -> None:
    gateway, recorder, runtime = live.gateway, live.sink, live.runtime
    original = new_request(subject="Printer on fire", body="It is smoking. Help!")
    send(gateway, original)

    ack = received(recorder, "bob@example.org", "Printer on fire")
    assert "[T-000001]" in str(ack["Subject"])
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Loop"] == "ticket-gateway"
    assert ack["In-Reply-To"] == original["Message-ID"], "the ack continues the customer's thread"
    assert ack.get_body(("plain",)).get_content().startswith(REPLY_MARKER)
    assert ack.get_body(("html",)) is not None, "text and HTML alternatives"

    notice = received(recorder, "ann@support.test", "Printer on fire")
    assert "It is smoking. Help!" in notice.get_body(("plain",)).get_content()
    # RFC 3834: only the ack answers the recipient's own mail; a notification does not.
    assert notice["Auto-Submitted"] == "auto-generated"

    # The customer answers the acknowledgement from their mail client.
    send(gateway, answer(ack, "Bob Jones <bob@example.org>", "It stopped smoking now."))
    update = received(recorder, "ann@support.test", "Printer on fire", count=2)
    assert "It stopped smoking now." in update.get_body(("plain",)).get_content()

    # The agent answers her notification, with a command on the first line.
    send(gateway, answer(update, "Ann Agent <ann@support.test>", "#resolve\nGlad to hear it!"))
    relayed = received(recorder, "bob@example.org", "Printer on fire", saying="Glad to hear")
    body = relayed.get_body(("plain",)).get_content()
    assert "Glad to hear it!" in body
    assert "#resolve" not in body
    assert "It is smoking" not in body, "the agent's quoted history is not relayed"
    assert "Auto-Submitted" not in relayed, "a human's answer is not an automatic mail"
    assert original["Message-ID"] in str(relayed["References"])

    resolved = received(recorder, "bob@example.org", "Printer on fire", saying="marked")
    assert "reply" in resolved.get_body(("plain",)).get_content().lower()
    assert resolved["Auto-Submitted"] == "auto-generated"
    assert len([m for m in recorder.messages if "bob@example.org" in str(m["To"])]) == 3
    with runtime.sessions() as s:
        ticket = tickets.get_ticket(s, "T-000001")
        assert ticket.status == "resolved"
        assert ticket.first_responded_at is not None
        assert len(tickets.messages_of(s, ticket)) == 3
    # Every mail was delivered exactly once.
    assert all(n == 1 for n in recorder.message_ids().values())
