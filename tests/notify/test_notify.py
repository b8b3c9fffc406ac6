"""What gets sent: outbox rows written by the pipeline and by ticket operations."""

from __future__ import annotations

from sqlalchemy import select

from gateway import tickets
from gateway.agents import add_agent
from gateway.audit import ADMIN
from gateway.notify import ACKS_PER_HOUR
from gateway.queues import add_member
from gateway.runtime import Runtime
from gateway.template_vars import NO_NEW_TEXT
from gateway.tokens import read_token
from schema.models import Agent, OutboxItem
from tests.conftest import Ingest, IngestWith
from tests.inbound.mails import new_request, reply


def _rows(runtime: Runtime, **where: str) -> list[OutboxItem]:
    with runtime.sessions() as s:
        query = select(OutboxItem).order_by(OutboxItem.id)
        for key, value in where.items():
            query = query.where(getattr(OutboxItem, key) == value)
        return list(s.scalars(query))


def _agents(runtime: Runtime, *emails: str) -> list[Agent]:
    with runtime.transaction() as s:
        return [add_agent(s, e, e.split("@")[0].title()) for e in emails]


def _reply_as(runtime: Runtime, row: OutboxItem, text: str, sender: str) -> bytes:
    """What the recipient's mail client sends back when they hit Reply on ``row``."""
    msg = new_request(
        sender=sender,
        to=row.context["headers"]["Reply-To"],
        body=text,
        subject=f"Re: {row.context['vars']['ticket']['subject']}",
    )
    msg["In-Reply-To"] = row.context["headers"]["Message-ID"]
    msg["References"] = row.context["headers"]["Message-ID"]
    return msg.as_bytes()


def test_new_ticket_acknowledges_customer_and_notifies_agents(
    runtime: Runtime, ingest: Ingest
) -> None:
    _agents(runtime, "ann@support.test", "bo@support.test")
    outcome = ingest(new_request())
    ack = _rows(runtime, template="ack")
    assert [r.recipient for r in ack] == ["bob@example.org"]
    headers = ack[0].context["headers"]
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Loop"] == "ticket-gateway"
    assert headers["In-Reply-To"].strip("<>") in headers["References"]
    token = read_token(runtime.settings.secret_key, headers["Reply-To"])
    assert token is not None
    assert token.kind == "contact"
    assert ack[0].context["vars"]["ticket"]["reference"] == outcome.ticket
    # No queue members and no assignee: every active agent hears of it.
    notified = sorted(r.recipient for r in _rows(runtime, template="new_ticket"))
    assert notified == ["ann@support.test", "bo@support.test"]


def test_queue_members_are_notified_when_the_queue_has_some(
    runtime: Runtime, ingest: Ingest
) -> None:
    _agents(runtime, "ann@support.test", "bo@support.test")
    with runtime.transaction() as s:
        add_member(s, "default", "bo@support.test")
    ingest(new_request())
    assert [r.recipient for r in _rows(runtime, template="new_ticket")] == ["bo@support.test"]


def test_customer_replying_to_the_ack_threads_and_notifies_the_assignee(
    runtime: Runtime, ingest: Ingest
) -> None:
    _agents(runtime, "ann@support.test", "bo@support.test")
    first = ingest(new_request())
    with runtime.transaction() as s:
        tickets.assign(s, tickets.get_ticket(s, first.ticket), "bo@support.test", actor=ADMIN)
    [ack] = _rows(runtime, template="ack")
    second = ingest(_reply_as(runtime, ack, "Here is a photo.", "bob@example.org"))
    assert (second.decision, second.ticket) == ("reply", first.ticket)
    assert [r.recipient for r in _rows(runtime, template="customer_reply")] == ["bo@support.test"]


def test_a_reply_that_only_quotes_tells_the_agent_so(runtime: Runtime, ingest: Ingest) -> None:
    _agents(runtime, "ann@support.test")
    ingest(new_request())
    [ack] = _rows(runtime, template="ack")
    quoted = (
        "On Mon, 7 Dec 2026 at 10:02, Support <support@example.com> wrote:\n"
        "> We received your request.\n> Thank you.\n"
    )
    ingest(_reply_as(runtime, ack, quoted, "bob@example.org"))
    [row] = _rows(runtime, template="customer_reply")
    assert row.context["vars"]["message"]["text"] == NO_NEW_TEXT


def test_agent_reply_reaches_customer_stripped_and_in_their_thread(
    runtime: Runtime, ingest: Ingest
) -> None:
    _agents(runtime, "ann@support.test")
    original = new_request()
    first = ingest(original)
    [note] = _rows(runtime, template="new_ticket")
    answer = reply(
        "gmail",
        original,
        "Unplug it, please.",
        sender="ann@support.test",
        to=note.context["headers"]["Reply-To"],
    )
    assert ingest(answer).ticket == first.ticket
    [relayed] = _rows(runtime, template="agent_reply")
    assert relayed.recipient == "bob@example.org"
    assert relayed.context["vars"]["message"]["text"] == "Unplug it, please."
    assert relayed.context["vars"]["agent"]["name"] == "Ann"
    assert "Auto-Submitted" not in relayed.context["headers"], "a human's reply is not automatic"
    references = relayed.context["headers"]["References"]
    assert original["Message-ID"] in references, "continues the customer's own thread"
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).status == "open"


def test_agent_commands_act_and_the_rest_is_relayed(runtime: Runtime, ingest: Ingest) -> None:
    _agents(runtime, "ann@support.test", "bo@support.test")
    original = new_request()
    first = ingest(original)
    [note] = _rows(runtime, template="new_ticket", recipient="ann@support.test")
    body = "#assign me\n#priority high\n#resolve\nFixed it remotely."
    ingest(_reply_as(runtime, note, body, "ann@support.test"))
    with runtime.sessions() as s:
        ticket = tickets.get_ticket(s, first.ticket)
        assert (ticket.status, ticket.priority) == ("resolved", "high")
        assert ticket.assignee.email == "ann@support.test"
    [relayed] = _rows(runtime, template="agent_reply")
    assert relayed.context["vars"]["message"]["text"] == "Fixed it remotely."
    assert len(_rows(runtime, template="resolved")) == 1


def test_note_goes_to_other_agents_never_to_the_customer(runtime: Runtime, ingest: Ingest) -> None:
    _agents(runtime, "ann@support.test", "bo@support.test")
    first = ingest(new_request())
    [note] = _rows(runtime, template="new_ticket", recipient="ann@support.test")
    ingest(_reply_as(runtime, note, "#note\nCustomer is a VIP, be nice.", "ann@support.test"))
    assert _rows(runtime, template="agent_reply") == []
    internal = _rows(runtime, template="internal_note")
    assert [r.recipient for r in internal] == ["bo@support.test"]
    with runtime.sessions() as s:
        last = tickets.messages_of(s, tickets.get_ticket(s, first.ticket))[-1]
        assert (last.internal, last.visible_text) == (True, "Customer is a VIP, be nice.")


def test_bad_command_relays_nothing_and_tells_the_agent(runtime: Runtime, ingest: Ingest) -> None:
    _agents(runtime, "ann@support.test")
    first = ingest(new_request())
    [note] = _rows(runtime, template="new_ticket")
    ingest(_reply_as(runtime, note, "#resolve\n#frobnicate\nDone!", "ann@support.test"))
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).status == "new"
    assert _rows(runtime, template="agent_reply") == []
    [error] = _rows(runtime, template="command_error")
    assert error.recipient == "ann@support.test"
    assert "#frobnicate" in error.context["vars"]["error"]["command"]
    assert error.context["headers"]["Auto-Submitted"] == "auto-replied", "answers her mail"


def test_command_not_allowed_rolls_back_every_command(runtime: Runtime, ingest: Ingest) -> None:
    _agents(runtime, "ann@support.test")
    first = ingest(new_request())
    [note] = _rows(runtime, template="new_ticket")
    ingest(
        _reply_as(runtime, note, "#priority urgent\n#assign nobody@x.test\nHi", "ann@support.test")
    )
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).priority == "normal"
    assert _rows(runtime, template="agent_reply") == []
    [error] = _rows(runtime, template="command_error")
    assert "no agent" in error.context["vars"]["error"]["command"]


def test_spoofed_agent_reply_does_not_act(runtime: Runtime, ingest: Ingest) -> None:
    _agents(runtime, "ann@support.test")
    first = ingest(new_request())
    spoof = new_request(
        sender="ann@support.test", subject=f"Re: [{first.ticket}]", body="#close\nclosing this"
    )
    ingest(spoof)
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).status == "new"
    assert _rows(runtime, template="agent_reply") == []


def test_acks_are_rate_limited_per_customer(runtime: Runtime, ingest: Ingest) -> None:
    for i in range(ACKS_PER_HOUR + 2):
        ingest(new_request(subject=f"question {i}"))
    assert len(_rows(runtime, template="ack")) == ACKS_PER_HOUR


def test_held_and_list_mail_get_no_automatic_answer(runtime: Runtime, ingest: Ingest) -> None:
    _agents(runtime, "ann@support.test")
    ingest(new_request(sender="list@lists.example.org", List_Id="<l.lists.example.org>"))
    assert _rows(runtime, template="ack") == []
    assert len(_rows(runtime, template="new_ticket")) == 1, "agents still hear of list mail"
    rate = runtime.settings.inbound_rate
    for i in range(rate + 2):
        ingest(new_request(sender="loop@example.net", subject=f"n{i}"))
    assert len(_rows(runtime, template="new_ticket")) == 1 + rate


def test_resolving_from_the_cli_mails_the_customer_once(runtime: Runtime, ingest: Ingest) -> None:
    first = ingest(new_request())
    with runtime.transaction() as s:
        tickets.change_status(s, tickets.get_ticket(s, first.ticket), "resolved", actor=ADMIN)
    [resolved] = _rows(runtime, template="resolved")
    assert resolved.recipient == "bob@example.org"
    assert resolved.context["vars"]["status"] == {"old": "new", "new": "resolved"}


def test_agent_reply_that_failed_dmarc_at_a_trusted_mx_does_not_act(
    env: dict[str, str], ingest_with: IngestWith
) -> None:
    runtime, ingest = ingest_with({**env, "TICKETGW_TRUSTED_AUTHSERV_IDS": "mx.support.test"})
    _agents(runtime, "ann@support.test")
    first = ingest(new_request())
    [note] = _rows(runtime, template="new_ticket")
    forged = _reply_as(runtime, note, "#close\nClosing.", "ann@support.test")
    failed = b"Authentication-Results: mx.support.test; dmarc=fail header.from=support.test\r\n"
    outcome = ingest(failed + forged)
    assert (outcome.decision, outcome.ticket) == ("reply", first.ticket), "kept, as a customer's"
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).status == "new"
    # Below the trusted header, a line the sender wrote himself is not believed.
    passed = b"Authentication-Results: mx.support.test; dkim=pass header.d=support.test\r\n"
    forged_pass = b"Authentication-Results: evil.example; dmarc=pass\r\n" + forged.replace(
        b"Closing.", b"Closing now."
    ).replace(b"Message-ID: <", b"Message-ID: <2")
    assert ingest(failed + forged_pass).decision == "reply"
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).status == "new"
    genuine = _reply_as(runtime, note, "#close\nDone.", "ann@support.test")
    ingest(passed + genuine)
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).status == "closed"
