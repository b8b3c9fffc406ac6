"""``tickets export``: JSON Lines, streamed in keyset batches, filtered by --since."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway import audit, queues, tickets
from gateway.contacts import contact_for_email
from gateway.export import count_ticket_records, iter_ticket_records, ticket_record
from gateway.runtime import Runtime
from gateway.tickets import NewMessage
from tests.cli.conftest import Ticketgw, assert_ok
from tests.cli.test_tickets import RECORD_KEYS

COUNT = 300
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _bulk_tickets(runtime: Runtime, count: int = COUNT) -> None:
    """``count`` tickets, one a minute from T0, each with a customer message."""
    with runtime.transaction() as session:
        queue = queues.get_queue(session, queues.DEFAULT_QUEUE)
        for i in range(count):
            now = T0 + timedelta(minutes=i)
            sender = f"customer{i % 20}@example.org"
            contact = contact_for_email(session, sender)
            ticket = tickets.open_ticket(
                session,
                queue=queue,
                contact=contact,
                subject=f"Question {i}",
                channel="email",
                actor=audit.customer_actor(sender),
                now=now,
            )
            tickets.add_message(
                session,
                ticket,
                NewMessage(
                    author_kind="customer",
                    channel="email",
                    visible_text=f"Body {i}",
                    sender=sender,
                    contact=contact,
                    email_message_id=f"<m{i}@example.org>",
                ),
                now=now,
            )


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_export_streams_every_ticket_as_json_lines(gw: Ticketgw, runtime: Runtime) -> None:
    _bulk_tickets(runtime)
    run = gw("tickets", "export")
    assert run.exit_code == 0
    assert run.stderr == f"exported {COUNT} tickets\n"
    records = _lines(run.stdout)
    assert len(records) == COUNT
    assert [r["reference"] for r in records] == [f"T-{i:06d}" for i in range(1, COUNT + 1)]
    assert all(set(r) == RECORD_KEYS for r in records)
    last = records[-1]
    assert last["subject"] == f"Question {COUNT - 1}"
    assert [m["message_id"] for m in last["messages"]] == [f"<m{COUNT - 1}@example.org>"]
    assert last["messages"][0]["visible_text"] == f"Body {COUNT - 1}"
    assert [e["action"] for e in last["audit"]] == ["created", "message"]

    # The export and `show --json` are the same shape, built by the same function.
    shown = assert_ok(gw("tickets", "show", "T-000007", "--json")).json()
    assert shown == records[6]


def test_since_filters_and_output_file(gw: Ticketgw, runtime: Runtime, tmp_path: Path) -> None:
    _bulk_tickets(runtime, 50)
    target = tmp_path / "out.jsonl"
    since = (T0 + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M")
    run = gw("tickets", "export", "--since", since, "--output", str(target))
    assert (run.exit_code, run.stdout) == (0, "")
    assert run.stderr == f"exported 10 tickets to {target}\n"
    records = _lines(target.read_text(encoding="utf-8"))
    assert [r["subject"] for r in records] == [f"Question {i}" for i in range(40, 50)]

    # A date alone is midnight UTC; an offset is honoured.
    assert len(_lines(gw("tickets", "export", "--since", "2026-01-05").stdout)) == 50
    assert _lines(gw("tickets", "export", "--since", "2026-01-06").stdout) == []
    at_ten_paris = gw("tickets", "export", "--since", "2026-01-05T10:45+01:00").stdout
    assert len(_lines(at_ten_paris)) == 5

    bad = gw("tickets", "export", "--since", "last week")
    assert bad.exit_code == 2
    assert "not an ISO 8601 date" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_iteration_is_batched_and_keeps_memory_flat(runtime: Runtime) -> None:
    _bulk_tickets(runtime, 120)
    with runtime.sessions() as session:
        seen: list[str] = []
        largest_identity_map = 0
        for record in iter_ticket_records(session, batch_size=7):
            seen.append(str(record["reference"]))
            largest_identity_map = max(largest_identity_map, len(session.identity_map))
        # Batches cross the 7-ticket boundaries without losing or repeating a ticket.
        assert seen == [f"T-{i:06d}" for i in range(1, 121)]
        # One batch of tickets with their messages, contacts and policy, not all 120.
        assert largest_identity_map < 60
        with_since = list(iter_ticket_records(session, T0 + timedelta(minutes=100), batch_size=7))
        assert [r["reference"] for r in with_since] == [f"T-{i:06d}" for i in range(101, 121)]
        assert count_ticket_records(session) == 120
        assert count_ticket_records(session, T0 + timedelta(minutes=100)) == 20
        ticket = tickets.get_ticket(session, "T-000001")
        assert ticket_record(session, ticket) == next(iter_ticket_records(session, batch_size=1))
