"""``ticketgw sla``: response and resolution targets per priority."""

from __future__ import annotations

from typing import Any

import click

from admin_cli.context import transaction
from admin_cli.output import done, print_json, print_table
from admin_cli.sla_report_cmd import report
from gateway.sla import policies as domain
from schema.models import SlaPolicy
from schema.models.queues import PRIORITIES


def policy_record(policy: SlaPolicy) -> dict[str, Any]:
    """JSON keys of `sla list --json`."""
    return {
        "name": policy.name,
        "priority": policy.priority,
        "first_response": policy.first_response,
        "resolution": policy.resolution,
        "business_hours": policy.business_hours,
        "timezone": policy.timezone,
        "warn_at_percent": policy.warn_at_percent,
        "escalate_to": list(policy.escalate_to),
    }


@click.group()
def sla() -> None:
    """Set, list and delete SLA policies (one per priority)."""


@sla.command("set")
@click.argument("name")
@click.option(
    "--priority", required=True, metavar="P", help=f"Priority it covers: {', '.join(PRIORITIES)}."
)
@click.option("--first-response", required=True, metavar="DUR", help="e.g. 30m, 4h, 1h30m.")
@click.option("--resolution", required=True, metavar="DUR", help="e.g. 8h, 2d (business days).")
@click.option(
    "--hours",
    default="24x7",
    show_default=True,
    metavar="SPEC",
    help="Business hours, e.g. 'Mon-Fri 09:00-17:00'.",
)
@click.option(
    "--tz",
    default="UTC",
    show_default=True,
    metavar="TZ",
    help="IANA time zone, e.g. Europe/Paris.",
)
@click.option(
    "--warn-at",
    type=int,
    default=80,
    show_default=True,
    metavar="PCT",
    help="Warn when this % of a target is used up.",
)
@click.option(
    "--escalate-to", multiple=True, metavar="EMAIL", help="Who hears of warnings and breaches."
)
def set_(
    name: str,
    priority: str,
    first_response: str,
    resolution: str,
    hours: str,
    tz: str,
    warn_at: int,
    escalate_to: tuple[str, ...],
) -> None:
    """Create or replace the policy NAME."""
    with transaction() as session:
        policy = domain.set_policy(
            session,
            name,
            priority=priority,
            first_response=first_response,
            resolution=resolution,
            hours=hours,
            tz=tz,
            warn_at=warn_at,
            escalate_to=escalate_to,
        )
    done(f"SLA policy {policy.name} set for {policy.priority} tickets")


@sla.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, urgent first.")
def list_(as_json: bool) -> None:
    """List the SLA policies, most urgent first."""
    with transaction() as session:
        records = [policy_record(p) for p in domain.list_policies(session)]
    if as_json:
        print_json(records)
        return
    print_table(
        ("name", "priority", "first response", "resolution", "hours", "tz", "warn at", "escalate"),
        (
            (
                r["name"],
                r["priority"],
                r["first_response"],
                r["resolution"],
                r["business_hours"],
                r["timezone"],
                f"{r['warn_at_percent']}%",
                r["escalate_to"],
            )
            for r in records
        ),
    )


@sla.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Delete the policy NAME; new tickets of its priority get no deadlines."""
    with transaction() as session:
        domain.delete_policy(session, name)
    done(f"deleted SLA policy {name}")


sla.add_command(report)
