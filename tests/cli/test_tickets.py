"""``ticketgw tickets``: listing, showing and changing tickets."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.export import ticket_summary
from gateway.runtime import Runtime
from schema.models import AuditEvent, Message
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok, make_ticket

SUMMARY_KEYS = {
    "reference",
    "subject",
    "status",
    "priority",
    "channel",
    "queue",
    "contact",
    "assignee",
    "tags",
    "created_at",
    "updated_at",
    "first_response_due_at",
    "first_responded_at",
    "resolution_due_at",
    "resolved_at",
    "closed_at",
    "merged_into",
    "follows_up",
}
RECORD_KEYS = SUMMARY_KEYS | {"sla_policy", "satisfaction", "messages", "audit"}
MESSAGE_KEYS = {
    "id",
    "created_at",
    "direction",
    "author_kind",
    "author",
    "participant",
    "channel",
    "internal",
    "held_reason",
    "subject",
    "visible_text",
    "message_id",
    "in_reply_to",
    "references",
    "sms_sid",
    "media_urls",
    "defects",
    "attachments",
}
EVENT_KEYS = {"at", "actor", "action", "old", "new"}


@pytest.fixture
def agents(gw: Ticketgw) -> Ticketgw:
    assert_ok(gw("agents", "add", "ann@example.com", "--name", "Ann"))
    assert_ok(gw("agents", "add", "bob@example.com", "--name", "Bob"))
    return gw


def _audit(runtime: Runtime, ref: str) -> list[tuple[str, str, str | None, str | None]]:
    ticket_id = int(ref.removeprefix("T-"))
    with runtime.transaction() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.ticket_id == ticket_id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
        return [(e.actor, e.action, e.old_value, e.new_value) for e in rows]


def test_list_filters_and_json(agents: Ticketgw, runtime: Runtime) -> None:
    gw = agents
    t1 = make_ticket(runtime, "carol@example.org", "Cannot log in")
    t2 = make_ticket(runtime, "dan@example.net", "Invoice wrong")
    t3 = make_ticket(runtime, "+14155552671", "SMS from +14155552671")
    assert_ok(gw("queues", "add", "billing", "--address", "billing@example.com"))
    assert_ok(gw("tickets", "assign", t1, "ann@example.com"))
    assert_ok(gw("tickets", "move", t2, "billing"))
    assert_ok(gw("tickets", "tag", t3, "+parcel"))
    assert_ok(gw("tickets", "status", t3, "pending"))

    table = assert_ok(gw("tickets", "list")).stdout
    for ref in (t1, t2, t3):
        assert ref in table
    assert "carol@example.org" in table
    assert "+14155552671" in table

    listed = assert_ok(gw("tickets", "list", "--json")).json()
    assert [t["reference"] for t in listed] == [t3, t2, t1]  # newest first
    assert all(set(t) == SUMMARY_KEYS for t in listed)
    assert listed[0]["contact"] == {"name": "", "email": None, "phone": "+14155552671"}
    assert listed[0]["channel"] == "sms"

    def refs(*args: str) -> list[str]:
        return [t["reference"] for t in assert_ok(gw("tickets", "list", "--json", *args)).json()]

    assert refs("--assignee", "ann@example.com") == [t1]
    assert refs("--assignee", "none") == [t3, t2]
    assert refs("--queue", "billing") == [t2]
    assert refs("--tag", "parcel") == [t3]
    assert refs("--status", "pending") == [t3]
    assert refs("--status", "new", "--queue", "default") == [t1]
    assert refs("--limit", "1") == [t3]
    assert refs("--tag", "nothing") == []
    assert assert_ok(gw("tickets", "list", "--tag", "nothing")).stdout == "(none)\n"


def test_list_bad_filters(gw: Ticketgw) -> None:
    assert_fails(gw("tickets", "list", "--status", "done"), 2, "unknown status 'done'")
    assert_fails(gw("tickets", "list", "--queue", "nope"), 2, "no queue named 'nope'")
    assert_fails(gw("tickets", "list", "--assignee", "ghost@example.com"), 2, "no agent")
    assert gw("tickets", "list", "--limit", "0").exit_code == 2


def test_show_thread_and_audit(agents: Ticketgw, runtime: Runtime) -> None:
    gw = agents
    ref = make_ticket(
        runtime, "carol@example.org", "Cannot log in", text="It says wrong password.",
        message_id="<abc-123@mail.example.org>",
    )  # fmt: skip
    assert_ok(gw("tickets", "note", ref, "Checked the logs: account locked."))
    assert_ok(gw("tickets", "assign", ref, "ann@example.com"))

    shown = assert_ok(gw("tickets", "show", ref.lower())).stdout
    assert shown.startswith(f"{ref}  Cannot log in\n")
    for expected in (
        "It says wrong password.",
        "Message-ID: <abc-123@mail.example.org>",
        "customer carol@example.org via email",
        "Checked the logs: account locked.",
        "(internal note)",
        "audit trail",
        "assignee",
    ):
        assert expected in shown

    record = assert_ok(gw("tickets", "show", ref, "--json")).json()
    assert set(record) == RECORD_KEYS
    assert record["reference"] == ref
    assert record["assignee"] == "ann@example.com"
    assert record["sla_policy"] == "normal"
    first, note = record["messages"]
    assert set(first) == MESSAGE_KEYS
    assert first["message_id"] == "<abc-123@mail.example.org>"
    assert (first["author_kind"], first["author"], first["internal"]) == (
        "customer",
        "carol@example.org",
        False,
    )
    assert (note["internal"], note["visible_text"]) == (True, "Checked the logs: account locked.")
    assert all(set(e) == EVENT_KEYS for e in record["audit"])
    assert [e["action"] for e in record["audit"]] == [
        "created",
        "message",
        "note",
        "note_by",
        "assignee",
    ]
    assert record["audit"][-1]["actor"] == "admin"


def test_changes_are_stored_and_audited_as_admin(agents: Ticketgw, runtime: Runtime) -> None:
    gw = agents
    ref = make_ticket(runtime)
    assert_ok(gw("queues", "add", "billing", "--address", "billing@example.com"))

    assert assert_ok(gw("tickets", "assign", ref, "ann@example.com")).stdout == (
        f"{ref} assigned to ann@example.com\n"
    )
    assert assert_ok(gw("tickets", "assign", ref, "--unassign")).stdout == f"{ref} unassigned\n"
    assert assert_ok(gw("tickets", "status", ref, "open")).stdout == f"{ref} is open\n"
    assert assert_ok(gw("tickets", "priority", ref, "urgent")).stdout == (
        f"{ref} has priority urgent\n"
    )
    # -TAG must reach the command, not click's option parser.
    tagged = assert_ok(gw("tickets", "tag", ref, "+vip", "+refund", "-vip", "-nothere"))
    assert tagged.stdout == f"{ref} tags: refund\n"
    assert assert_ok(gw("tickets", "move", ref, "billing")).stdout == f"{ref} is in queue billing\n"
    assert assert_ok(gw("tickets", "note", ref, "--", "--starts with dashes")).stdout == (
        f"note added to {ref}\n"
    )

    record = gw("tickets", "show", ref, "--json").json()
    assert (record["status"], record["priority"], record["queue"]) == ("open", "urgent", "billing")
    assert (record["assignee"], record["tags"]) == (None, ["refund"])
    assert record["messages"][-1]["visible_text"] == "--starts with dashes"
    admin_events = [(a, o, n) for actor, a, o, n in _audit(runtime, ref) if actor == "admin"]
    # The priority change re-planned the deadlines (the move kept the policy: no event).
    [(_, old, new)] = [event for event in admin_events if event[0] == "sla"]
    assert str(old).startswith("policy=normal first_response_due=")
    assert str(new).startswith("policy=urgent first_response_due=")
    # In call order; "+vip ... -vip" nets out to no change, so neither is audited.
    assert [event for event in admin_events if event[0] != "sla"] == (
        [
            ("assignee", None, "ann@example.com"),
            ("assignee", "ann@example.com", None),
            ("status", "new", "open"),
            ("priority", "normal", "urgent"),
            ("tag_added", None, "refund"),
            ("queue", "default", "billing"),
            ("note_by", None, str(record["messages"][-1]["id"])),
        ]
    )


def test_merge(agents: Ticketgw, runtime: Runtime) -> None:
    gw = agents
    source = make_ticket(runtime, "carol@example.org", "Login", message_id="<one@example.org>")
    target = make_ticket(
        runtime, "carol@example.org", "Login again", message_id="<two@example.org>"
    )
    assert_ok(gw("tickets", "tag", source, "+login"))
    assert assert_ok(gw("tickets", "merge", source, target)).stdout == (
        f"merged {source} into {target}\n"
    )
    merged = gw("tickets", "show", target, "--json").json()
    assert [m["message_id"] for m in merged["messages"]] == [
        "<one@example.org>",
        "<two@example.org>",
    ]
    assert merged["tags"] == ["login"]
    old = gw("tickets", "show", source, "--json").json()
    assert (old["status"], old["merged_into"], old["messages"]) == ("closed", target, [])
    with runtime.transaction() as session:
        count = len(session.scalars(select(Message).where(Message.ticket_id == 1)).all())
    assert count == 0
    assert_fails(gw("tickets", "merge", target, target), 2, "into itself")
    assert_fails(gw("tickets", "merge", target, source), 1, f"{source} is closed")


def test_bad_input(agents: Ticketgw, runtime: Runtime) -> None:
    gw = agents
    ref = make_ticket(runtime)
    assert_ok(gw("agents", "disable", "bob@example.com"))
    for args in (
        ("show", "T-999999"),
        ("assign", "T-999999", "ann@example.com"),
        ("status", "999999", "open"),
        ("priority", "T-999999", "low"),
        ("tag", "T-999999", "+x"),
        ("move", "T-999999", "default"),
        ("note", "T-999999", "hello"),
        ("merge", "T-999999", ref),
    ):
        assert_fails(gw("tickets", *args), 2, "no ticket T-999999")
    for malformed in ("TK-1", "abc", "T-", "1.5"):
        assert_fails(gw("tickets", "show", malformed), 2, "not a ticket reference")
    assert_fails(gw("tickets", "assign", ref, "ghost@example.com"), 2, "no agent")
    assert_fails(gw("tickets", "assign", ref, "bob@example.com"), 2, "is disabled")
    assert_fails(gw("tickets", "status", ref, "done"), 2, "unknown status 'done'")
    assert_fails(gw("tickets", "priority", ref, "asap"), 2, "unknown priority 'asap'")
    assert_fails(gw("tickets", "move", ref, "nope"), 2, "no queue named 'nope'")
    assert_fails(gw("tickets", "tag", ref, "vip"), 2, "write +TAG to add or -TAG to remove")
    assert_fails(gw("tickets", "tag", ref, "+no spaces"), 2, "bad tag")
    assert_fails(gw("tickets", "note", ref, "   "), 2, "needs some text")
    usage = gw("tickets", "assign", ref)
    assert usage.exit_code == 2
    assert "give either AGENT or --unassign" in usage.stderr

    assert_ok(gw("tickets", "status", ref, "closed"))
    assert_fails(gw("tickets", "status", ref, "open"), 1, f"{ref} cannot go from closed to open")
    assert_fails(gw("tickets", "status", ref, "pending"), 1, "cannot go from closed")
    with runtime.transaction() as session:
        from gateway.tickets import get_ticket

        summary = ticket_summary(get_ticket(session, ref))
    assert (summary["status"], summary["assignee"], summary["tags"]) == ("closed", None, [])
