"""``ticketgw tickets``: find, read, change and export tickets.

Every change is made through ``gateway.tickets`` and audited with the actor ``admin``.
JSON shapes come from ``gateway.export`` (keys documented there and in docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from admin_cli.context import transaction
from admin_cli.export_cmd import export
from admin_cli.output import done, print_json, print_table, stdout
from gateway import audit
from gateway import tickets as domain
from gateway.errors import InvalidInput
from gateway.export import find_tickets, ticket_record, ticket_summary
from schema.models.tickets import STATUSES
from schema.text import safe_data

ACTOR = audit.ADMIN


def _reach(summary: dict[str, Any]) -> str | None:
    """The contact's address on the ticket's channel: the phone for an SMS ticket."""
    contact = summary["contact"]
    if summary["channel"] == "sms":
        return contact["phone"] or contact["email"]
    return contact["email"] or contact["phone"]


def print_ticket_table(summaries: Iterable[dict[str, Any]]) -> None:
    """The people's view of ``ticket_summary`` records (also used by ``demo``)."""
    print_table(
        ("ref", "status", "priority", "queue", "channel", "contact", "assignee", "subject"),
        (
            (
                s["reference"],
                s["status"],
                s["priority"],
                s["queue"],
                s["channel"],
                _reach(s),
                s["assignee"],
                s["subject"],
            )
            for s in summaries
        ),
    )


@click.group()
def tickets() -> None:
    """List, show, change and export tickets.

    REF is a ticket reference such as T-000123 (or just 123).
    """


@tickets.command("list")
@click.option("--status", help=f"Only this status: {', '.join(STATUSES)}.")
@click.option("--queue", help="Only tickets in this queue.")
@click.option("--assignee", help='Only tickets of this agent; "none" for unassigned.')
@click.option("--tag", help="Only tickets with this tag.")
@click.option("--breached", is_flag=True, help="Only open tickets past a deadline now.")
@click.option(
    "--at-risk",
    is_flag=True,
    help="Only open tickets past their policy's warning threshold, not yet breached.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most N."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, newest first.")
def list_(
    status: str | None,
    queue: str | None,
    assignee: str | None,
    tag: str | None,
    breached: bool,
    at_risk: bool,
    limit: int,
    as_json: bool,
) -> None:
    """List tickets, newest first."""
    with transaction() as session:
        found = find_tickets(
            session,
            status=status,
            queue=queue,
            assignee=assignee,
            tag=tag,
            breached=breached,
            at_risk=at_risk,
            limit=limit,
        )
        summaries = [ticket_summary(t) for t in found]
    if as_json:
        print_json(summaries)
    else:
        print_ticket_table(summaries)


@tickets.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the full record as JSON.")
def show(ref: str, as_json: bool) -> None:
    """Show a ticket with its whole thread and audit trail."""
    with transaction() as session:
        record = ticket_record(session, domain.get_ticket(session, ref))
    if as_json:
        print_json(record)
    else:
        _print_record(record)


def _print_record(r: dict[str, Any]) -> None:
    r = safe_data(r)  # rich writes straight to stdout: the same rule as every other line
    console = stdout()
    contact = r["contact"]
    who = " ".join(x for x in (contact["name"], contact["email"], contact["phone"]) if x)
    lines = [
        f"{r['reference']}  {r['subject']}",
        f"status {r['status']} · priority {r['priority']} · queue {r['queue']}"
        f" · via {r['channel']}",
        f"contact {who} · assignee {r['assignee'] or '-'} · tags {', '.join(r['tags']) or '-'}",
        f"created {r['created_at']} · first response due {r['first_response_due_at'] or '-'}"
        f" · resolution due {r['resolution_due_at'] or '-'}",
    ]
    if r["merged_into"]:
        lines.append(f"merged into {r['merged_into']}")
    if r["satisfaction"]:
        rating = r["satisfaction"]
        comment = f": {rating['comment']}" if rating["comment"] else ""
        lines.append(f"satisfaction {rating['rating']}/5{comment}")
    for line in lines:
        console.print(line, markup=False)
    for m in r["messages"]:
        flags = " (internal note)" if m["internal"] else ""
        if not m["participant"]:
            flags += " (not a participant of this ticket)"
        if m["held_reason"]:
            flags += f" (held: {m['held_reason']})"
        console.print(
            f"\n#{m['id']} {m['created_at']} {m['author_kind']} {m['author']}"
            f" via {m['channel']}{flags}",
            markup=False,
            style="bold",
        )
        if m["message_id"]:
            console.print(f"Message-ID: {m['message_id']}", markup=False, style="dim")
        if m["defects"]:
            console.print(f"defects: {'; '.join(m['defects'])}", markup=False, style="dim")
        console.print(m["visible_text"], markup=False)
    click.echo("")
    print_table(
        ("at", "actor", "action", "old", "new"),
        ((e["at"], e["actor"], e["action"], e["old"], e["new"]) for e in r["audit"]),
        title="audit trail",
    )


@tickets.command("assign")
@click.argument("ref")
@click.argument("agent", required=False)
@click.option("--unassign", is_flag=True, help="Remove the assignee instead.")
def assign(ref: str, agent: str | None, unassign: bool) -> None:
    """Assign a ticket to an agent, or unassign it.

    AGENT is the email address of an active agent.
    """
    if bool(agent) == unassign:
        raise click.UsageError("give either AGENT or --unassign")
    with transaction() as session:
        ticket = domain.assign(session, domain.get_ticket(session, ref), agent, actor=ACTOR)
        owner = ticket.assignee.email if ticket.assignee else None
    done(f"{ticket.reference} assigned to {owner}" if owner else f"{ticket.reference} unassigned")


@tickets.command("status")
@click.argument("ref")
@click.argument("status", metavar="STATUS")
def status(ref: str, status: str) -> None:
    """Set a ticket's status.

    STATUS is new, open, pending, resolved or closed. Closed is final: a closed ticket
    cannot be reopened (exit code 1).
    """
    with transaction() as session:
        ticket = domain.change_status(session, domain.get_ticket(session, ref), status, actor=ACTOR)
    done(f"{ticket.reference} is {ticket.status}")


@tickets.command("priority")
@click.argument("ref")
@click.argument("priority", metavar="PRIORITY")
def priority(ref: str, priority: str) -> None:
    """Set a ticket's priority.

    PRIORITY is low, normal, high or urgent; the deadlines follow its SLA policy.
    """
    with transaction() as session:
        ticket = domain.change_priority(
            session, domain.get_ticket(session, ref), priority, actor=ACTOR
        )
    done(f"{ticket.reference} has priority {ticket.priority}")


@tickets.command("tag", context_settings={"ignore_unknown_options": True})
@click.argument("ref")
@click.argument("changes", nargs=-1, required=True, type=click.UNPROCESSED, metavar="+TAG|-TAG...")
def tag(ref: str, changes: tuple[str, ...]) -> None:
    """Add and remove tags.

    +TAG adds a tag, -TAG removes one: `ticketgw tickets tag T-000123 +vip -spam`.
    """
    bad = [c for c in changes if len(c) < 2 or c[0] not in "+-"]
    if bad:
        raise InvalidInput(f"bad tag change {bad[0]!r}: write +TAG to add or -TAG to remove")
    add = [c[1:] for c in changes if c[0] == "+"]
    remove = [c[1:] for c in changes if c[0] == "-"]
    with transaction() as session:
        ticket = domain.retag(session, domain.get_ticket(session, ref), add, remove, actor=ACTOR)
        tags = sorted(ticket.tags)
    done(f"{ticket.reference} tags: {', '.join(tags) or '(none)'}")


@tickets.command("move")
@click.argument("ref")
@click.argument("queue")
def move(ref: str, queue: str) -> None:
    """Move the ticket REF to QUEUE."""
    with transaction() as session:
        ticket = domain.move(session, domain.get_ticket(session, ref), queue, actor=ACTOR)
        name = ticket.queue.name
    done(f"{ticket.reference} is in queue {name}")


@tickets.command("note")
@click.argument("ref")
@click.argument("text")
def note(ref: str, text: str) -> None:
    """Add an internal note to a ticket.

    Notes are never sent to the customer. Put `--` before TEXT if it begins with a dash:
    `ticketgw tickets note T-000123 -- "-1 from me"`.
    """
    with transaction() as session:
        ticket = domain.get_ticket(session, ref)
        domain.add_note(session, ticket, None, text, actor=ACTOR)
    done(f"note added to {ticket.reference}")


@tickets.command("merge")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="INTO")
def merge(source: str, target: str) -> None:
    """Merge one ticket into another.

    The messages and tags of FROM move to INTO; FROM is closed and points to INTO.
    """
    with transaction() as session:
        src, dst = domain.get_ticket(session, source), domain.get_ticket(session, target)
        src_ref, dst_ref = src.reference, dst.reference
        domain.merge(session, src, dst, actor=ACTOR)
    done(f"merged {src_ref} into {dst_ref}")


tickets.add_command(export)
