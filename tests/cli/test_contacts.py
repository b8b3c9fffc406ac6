"""``ticketgw contacts``: list, show, link an email and a phone as one person, opt-outs."""

from __future__ import annotations

from sqlalchemy import select

from gateway.runtime import Runtime
from schema.models import AuditEvent, Ticket
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok, make_ticket
from tests.sms.conftest import receive_sms

PHONE = "+14155552671"


def test_list_and_show_a_contact_by_email_phone_or_id(gw: Ticketgw, runtime: Runtime) -> None:
    ref = make_ticket(runtime, "carol@example.org")
    make_ticket(runtime, PHONE, "SMS from +14155552671")
    records = assert_ok(gw("contacts", "list", "--json")).json()
    assert [(r["emails"], [p["number"] for p in r["phones"]]) for r in records] == [
        ([], [PHONE]),
        (["carol@example.org"], []),
    ]
    assert records[1]["tickets"] == 1
    shown = assert_ok(gw("contacts", "show", "Carol@Example.org", "--json")).json()
    assert shown["ticket_list"][0]["reference"] == ref
    assert assert_ok(gw("contacts", "show", "+1 415 555 2671", "--json")).json()["phones"] == [
        {"number": PHONE, "sms_opted_out_at": None}
    ]
    table = assert_ok(gw("contacts", "show", f"#{records[1]['id']}")).stdout
    assert "email  carol@example.org" in table
    assert ref in table
    assert_fails(gw("contacts", "show", "nobody@example.org"), 2, "no contact with email")
    assert_fails(gw("contacts", "show", "12"), 2, "not a phone number")
    assert_fails(gw("contacts", "show", "#999"), 2, "no contact #999")


def test_linked_email_and_phone_share_tickets(gw: Ticketgw, runtime: Runtime) -> None:
    ref = make_ticket(runtime, "carol@example.org", "Broken screen")
    receive_sms(runtime, "hello", sender="+14155552672")  # someone else's number
    make_ticket(runtime, PHONE, "old sms ticket")
    with runtime.transaction() as s:
        old = s.scalars(select(Ticket).where(Ticket.subject == "old sms ticket")).one()
        old.status = "closed"
    out = assert_ok(gw("contacts", "link", "carol@example.org", PHONE)).stdout
    assert out.startswith("linked: contact #")
    assert "carol@example.org" in out
    assert PHONE in out
    again = assert_ok(gw("contacts", "link", PHONE, "carol@example.org")).stdout
    assert again.startswith("already one contact")
    receive_sms(runtime, "Any news about my screen?")
    shown = assert_ok(gw("tickets", "show", ref, "--json")).json()
    assert [m["visible_text"] for m in shown["messages"]] == [
        "Please help.",
        "Any news about my screen?",
    ]
    assert shown["messages"][1]["channel"] == "sms"
    assert shown["contact"] == {"name": "", "email": "carol@example.org", "phone": PHONE}
    with runtime.sessions() as s:
        actions = [a.action for a in s.scalars(select(AuditEvent))]
        assert "contact" in actions
    assert len(assert_ok(gw("contacts", "list", "--json")).json()) == 2


def test_optout_by_hand_and_lift(gw: Ticketgw, runtime: Runtime) -> None:
    out = assert_ok(gw("contacts", "optout", "+1 (415) 555-2671")).stdout
    assert out.startswith(f"{PHONE} opted out of SMS since 20")
    listed = assert_ok(gw("contacts", "list", "--opted-out", "--json")).json()
    assert [p["number"] for p in listed[0]["phones"]] == [PHONE]
    assert listed[0]["phones"][0]["sms_opted_out_at"].endswith("Z")
    assert f"{PHONE} since" in assert_ok(gw("contacts", "list")).stdout
    assert assert_ok(gw("contacts", "optout", PHONE, "--lift")).stdout == (
        f"{PHONE} may receive SMS again\n"
    )
    assert assert_ok(gw("contacts", "list", "--opted-out")).stdout == "(none)\n"
    assert_fails(gw("contacts", "optout", "call me"), 2, "not a phone number")
