"""``ticketgw demo``: runs twice on the same database, shows its tickets and a conversation."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Ticketgw, assert_ok

SEEDED = ("Cannot log in", "Invoice 2291 is wrong", "SMS from +14155552671")


def test_demo_twice(ticketgw: Ticketgw) -> None:
    first = assert_ok(ticketgw("demo")).stdout
    second = assert_ok(ticketgw("demo")).stdout
    for out in (first, second):
        assert out.startswith("database at revision ")
        for expected in ("T-000001", "T-000002", "T-000003", "carol@example.org", "+14155552671"):
            assert expected in out
        # The live conversation: what the customer received, and the agent's answer.
        assert "We received your request" in out
        assert "the customer receives the agent's answer" in out
        assert "Hi Erin, we have sent a new parcel today." in out
        # By SMS: the acknowledgement and the agent's answer, as the phone receives them.
        assert "+14155550143 texts +15005550006: Hi, the heater I bought" in out
        assert "(Twilio's signed webhook POST /twilio/sms, SM" in out
        sms = out.split("By SMS:")[1]
        assert "| We got your message: ticket T-0000" in sms
        assert "STOP to opt out" in sms
        assert "the customer's phone receives the agent's answer" in sms
        assert "| Hi, sorry about that! Please switch it off" in sms
        assert "| - Ann Agent, ticket T-0000" in sms
        # An urgent ticket escalating, driven by `sla scan --at`: each level once, in order.
        escalation = sms.split("SLA escalation:")[1]
        rows = [line.split("│") for line in escalation.splitlines() if "│ T-0000" in line]
        assert [(r[4].strip(), r[7].strip(), r[8].strip()) for r in rows] == [
            ("warning", "sent", "bob@example.com (email)"),
            ("breach", "sent", "bob@example.com (email)"),
            ("breach2", "sent", "ann@example.com (email)"),  # the manager
        ]
        assert escalation.rstrip().endswith("again: each level fires once\n(none)")

    agents = assert_ok(ticketgw("agents", "list", "--json")).json()
    assert [a["email"] for a in agents] == ["ann@example.com", "bob@example.com"]
    assert len(assert_ok(ticketgw("sla", "list", "--json")).json()) == 4
    listed = assert_ok(ticketgw("tickets", "list", "--json")).json()
    seeded = [t for t in listed if t["subject"] in SEEDED]
    assert len(seeded) == 3, "the seeded tickets are reused, not opened again"
    by_channel = {t["channel"]: t for t in seeded}
    assert by_channel["sms"]["contact"]["phone"] == "+14155552671"
    for ticket in seeded:
        record = ticket_show(ticketgw, ticket["reference"])
        assert len(record["messages"]) == 1
        assert record["messages"][0]["channel"] == ticket["channel"]

    texts = [t for t in listed if t["contact"]["phone"] == "+14155550143"]
    assert len(texts) == 2, "one SMS conversation per run"
    for ticket in texts:
        record = ticket_show(ticketgw, ticket["reference"])
        assert [(m["author_kind"], m["channel"]) for m in record["messages"]] == [
            ("customer", "sms"),
            ("agent", "email"),
        ]
    # The texts came in through the HTTP listener, as Twilio's webhooks, into the inbox.
    inbox = assert_ok(ticketgw("mail", "inbox", "list", "--json")).json()
    texted = [i for i in inbox if i["channel"] == "sms"]
    assert [(i["source"], i["sender"], i["status"]) for i in texted] == [
        ("twilio", "+14155550143", "done")
    ] * 2
    assert len({i["ticket_id"] for i in texted}) == 2, "each run's text opened its ticket"
    outbox = assert_ok(ticketgw("outbox", "list", "--json")).json()
    to_phone = [r for r in outbox if r["recipient"] == "+14155550143"]
    assert {r["template"] for r in to_phone} == {"sms_ack", "sms_agent_reply"}
    assert all(r["status"] == "sent" and r["provider_id"].startswith("SM") for r in to_phone)
    conversations = [t for t in listed if t["subject"].startswith("Parcel never arrived")]
    assert len(conversations) == 2, "one live conversation per run"
    for ticket in conversations:
        assert ticket["assignee"] == "ann@example.com"  # the agent's "#assign me"
        record = ticket_show(ticketgw, ticket["reference"])
        assert [m["author_kind"] for m in record["messages"]] == ["customer", "customer", "agent"]
    members = assert_ok(ticketgw("queues", "list", "--json")).json()[0]["members"]
    assert members == ["ann@example.com", "bob@example.com"]


def ticket_show(ticketgw: Ticketgw, ref: str) -> dict[str, Any]:
    record: dict[str, Any] = assert_ok(ticketgw("tickets", "show", ref, "--json")).json()
    return record
