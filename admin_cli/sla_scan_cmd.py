"""``ticketgw sla scan``: the escalation scan by hand, as if at a given time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from admin_cli.context import runtime
from admin_cli.outbox_cmd import relay_now
from admin_cli.output import echo, iso, print_json, print_table
from gateway.errors import InvalidInput
from gateway.sla.escalation import Raised, format_elapsed
from gateway.sla.scan import scan as run_scan
from schema.models.base import utcnow


def raised_record(row: Raised) -> dict[str, Any]:
    """JSON keys of `sla scan --json`."""
    return {
        "ticket": row.reference,
        "subject": row.subject,
        "deadline": row.moment.deadline,
        "level": row.moment.level,
        "percent": row.moment.percent,
        "due_at": iso(row.moment.at),
        "deadline_at": iso(row.moment.deadline_at),
        "elapsed": format_elapsed(row.moment.elapsed),
        "outcome": row.outcome,
        "recipients": list(row.recipients),
    }


def _instant(text: str | None) -> datetime:
    if text is None:
        return utcnow()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--at {text!r}: use an ISO time, e.g. 2026-12-07T13:00Z") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@click.command("scan")
@click.option(
    "--at", "at", metavar="ISO-TIME", help="Scan as if it were this time (UTC if no zone)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def scan(at: str | None, as_json: bool) -> None:
    """Raise the SLA warnings and breaches due now (or at --at) and print them.

    What is due goes to the outbox and to the workers; a level is raised once per ticket
    and deadline, so running this again raises nothing twice.
    """
    now = _instant(at)
    rt = runtime()
    report = run_scan(rt, now)
    # Without Redis, `serve` sends the new rows with its in-process workers.
    if report.raised and rt.settings.redis_url:
        relay_now(rt)
    if as_json:
        print_json([raised_record(r) for r in report.raised])
        return
    print_raised(report.raised)
    sent = sum(1 for r in report.raised if r.outcome == "sent")
    echo(f"scanned at {iso(now)}: {sent} escalations sent, {report.checked} tickets checked")


def print_raised(raised: list[Raised]) -> None:
    """The table of `sla scan`: one row per level raised."""
    rows = [raised_record(r) for r in raised]
    print_table(
        ("Ticket", "Subject", "Deadline", "Level", "Due at", "Elapsed", "Outcome", "Sent to"),
        (
            (
                r["ticket"],
                r["subject"],
                r["deadline"].replace("_", " "),
                r["level"],
                r["due_at"],
                f"{r['elapsed']} ({r['percent']}%)",
                r["outcome"],
                r["recipients"],
            )
            for r in rows
        ),
    )
