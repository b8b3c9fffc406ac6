"""Auto-replies, bounces, loops and list mail through the whole pipeline."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway import tickets
from gateway.agents import add_agent
from gateway.runtime import Runtime
from gateway.tokens import ReplyToken, token_address
from schema.models import ContactIdentity, InboxItem, OutboxItem, Ticket
from schema.models.base import utcnow
from tests.conftest import Ingest
from tests.inbound.mails import new_request, reply

AUTO_HEADERS = [
    {"Auto_Submitted": "auto-replied"},
    {"X_Autoreply": "yes"},
    {"X_Autorespond": "vacation"},
    {"Precedence": "auto_reply"},
    {"Precedence": "junk"},
]
VACATION_SUBJECTS = [
    "Out of Office: Printer on fire",
    "Automatic reply: Printer on fire",
    "Abwesenheitsnotiz: Printer on fire",
    "Réponse automatique : Printer on fire",
    "Respuesta automática: Printer on fire",
    "Automatisch antwoord: Printer on fire",
    "Resposta automática: Printer on fire",
]


def _tickets(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return len(s.scalars(select(Ticket.id)).all())


def test_auto_replies_never_open_tickets(runtime: Runtime, ingest: Ingest) -> None:
    mails = [new_request(subject="Hello", **h) for h in AUTO_HEADERS]
    mails += [new_request(subject=s) for s in VACATION_SUBJECTS]
    for mail in mails:
        outcome = ingest(mail)
        assert (outcome.status, outcome.kind) == ("ignored", "auto_reply"), mail["Subject"]
    assert _tickets(runtime) == 0
    with runtime.sessions() as s:
        reasons = s.scalars(select(InboxItem.thread_reason)).all()
    assert all(r == "auto-reply, no ticket to note it on" for r in reasons)


def test_auto_reply_on_a_ticket_is_kept_as_system_note(runtime: Runtime, ingest: Ingest) -> None:
    original = new_request()
    first = ingest(original)
    away = reply("gmail", original, "I am on holiday until Monday.", subject="Out of Office")
    away["Auto-Submitted"] = "auto-replied"
    outcome = ingest(away)
    assert (outcome.kind, outcome.decision, outcome.ticket) == ("auto_reply", "reply", first.ticket)
    with runtime.sessions() as s:
        ticket = tickets.get_ticket(s, first.ticket)
        note = tickets.messages_of(s, ticket)[-1]
        assert (note.author_kind, note.internal) == ("system", True)
        assert note.visible_text.startswith("auto-reply: I am on holiday")
        assert ticket.status == "new", "an auto-reply must not reopen or change the ticket"


def test_bounce_of_our_notification_marks_row_and_address(runtime: Runtime, ingest: Ingest) -> None:
    first = ingest(new_request())
    with runtime.transaction() as s:
        ticket = tickets.get_ticket(s, first.ticket)
        s.add(
            OutboxItem(
                channel="email",
                recipient="bob@example.org",
                template="ack",
                ticket_id=ticket.id,
                email_message_id="ack-1@example.com",
                idempotency_key="ack-1",
                status="sent",
            )
        )
        tickets.remember_message_id(
            s, "ack-1@example.com", ticket, outbound=True, recipient="bob@example.org"
        )
    dsn = (
        b"From: MAILER-DAEMON@mx.example.org\r\nTo: support@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <ack-1@example.com>\r\nTo: bob@example.org\r\n"
        b"--B--\r\n"
    )
    outcome = ingest(dsn)
    assert (outcome.kind, outcome.ticket) == ("bounce", first.ticket)
    with runtime.sessions() as s:
        row = s.scalars(select(OutboxItem).where(OutboxItem.idempotency_key == "ack-1")).one()
        assert row.delivery_status == "bounced"
        assert "5.1.1" in (row.last_error or "")
        identity = s.scalars(select(ContactIdentity)).one()
        assert identity.bouncing_since is not None
    assert _tickets(runtime) == 1


def test_our_own_mail_coming_back_is_ignored(runtime: Runtime, ingest: Ingest) -> None:
    looped = new_request(sender="support@example.com", subject="Your ticket")
    outcome = ingest(looped)
    assert (outcome.kind, outcome.status) == ("loop", "ignored")
    marker = new_request(sender="someone@example.net", X_Loop="ticket-gateway")
    assert ingest(marker).kind == "loop"
    assert _tickets(runtime) == 0


def test_list_mail_opens_a_ticket(runtime: Runtime, ingest: Ingest) -> None:
    outcome = ingest(new_request(List_Id="<users.lists.example.org>", Precedence="list"))
    assert (outcome.kind, outcome.decision) == ("list", "new")


def test_runaway_sender_is_held_but_stored(runtime: Runtime, ingest: Ingest) -> None:
    rate = runtime.settings.inbound_rate
    outcomes = [ingest(new_request(subject=f"spam {i}")) for i in range(rate + 3)]
    assert [o.held for o in outcomes] == [False] * rate + [True] * 3
    assert all(o.decision == "new" for o in outcomes), "held mail is still stored and threaded"
    with runtime.sessions() as s:
        held = s.scalars(select(InboxItem).where(InboxItem.held)).all()
        assert len(held) == 3
        assert "held, no notifications" in (held[0].reason or "")


def test_breaker_window_is_one_minute(runtime: Runtime, ingest: Ingest) -> None:
    rate = runtime.settings.inbound_rate
    for i in range(rate):
        ingest(new_request(subject=f"old {i}"))
    with runtime.transaction() as s:
        for item in s.scalars(select(InboxItem)):
            item.received_at = utcnow() - timedelta(minutes=2)
    assert not ingest(new_request(subject="fresh")).held


def test_agent_reply_acts_only_with_its_own_token(runtime: Runtime, ingest: Ingest) -> None:
    original = new_request()
    first = ingest(original)
    with runtime.transaction() as s:
        ann = add_agent(s, "ann@support.test", "Ann")
        bob_agent = add_agent(s, "bo@support.test", "Bo")
        ticket = tickets.get_ticket(s, first.ticket)
        secret = runtime.settings.secret_key
        ann_addr = token_address(
            secret, "support@example.com", ReplyToken(ticket.id, "agent", ann.id)
        )
        bo_addr = token_address(
            secret, "support@example.com", ReplyToken(ticket.id, "agent", bob_agent.id)
        )

    def author_of(outcome_ref: str) -> tuple[str, bool]:
        with runtime.sessions() as s:
            msg = tickets.messages_of(s, tickets.get_ticket(s, outcome_ref))[-1]
            return msg.author_kind, msg.author_agent_id is not None

    genuine = reply("gmail", original, "We replaced it.", sender="ann@support.test", to=ann_addr)
    assert ingest(genuine).ticket == first.ticket
    assert author_of(first.ticket) == ("agent", True)
    other_token = reply("gmail", original, "spoof 1", sender="ann@support.test", to=bo_addr)
    assert ingest(other_token).ticket == first.ticket
    assert author_of(first.ticket) == ("customer", False)
    forwarded = reply("gmail", original, "spoof 2", sender="eve@example.net", to=ann_addr)
    ingest(forwarded)
    assert author_of(first.ticket) == ("customer", False)
    no_token = reply("gmail", original, "spoof 3", sender="ann@support.test")
    ingest(no_token)
    assert author_of(first.ticket) == ("customer", False)
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, first.ticket).first_responded_at is not None
