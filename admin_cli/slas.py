"""``ticketgw sla``: response and resolution targets per queue and priority, and holidays."""

from __future__ import annotations

from typing import Any

import click

from admin_cli import sla_scan_cmd
from admin_cli.context import transaction
from admin_cli.output import done, print_json, print_table
from admin_cli.sla_report_cmd import report
from gateway.sla import holidays
from gateway.sla import policies as domain
from schema.models import SlaPolicy
from schema.models.queues import PRIORITIES
from schema.models.sla import ESCALATE_BY


def policy_record(policy: SlaPolicy, queues: dict[int | None, str]) -> dict[str, Any]:
    """JSON keys of `sla list --json`."""
    return {
        "name": policy.name,
        "queue": queues.get(policy.queue_id),
        "priority": policy.priority,
        "default": policy.is_default,
        "first_response": policy.first_response,
        "resolution": policy.resolution,
        "business_hours": policy.business_hours,
        "timezone": policy.timezone,
        "warn_at_percent": policy.warn_at_percent,
        "escalate_to": list(policy.escalate_to),
        "escalate_by": policy.escalate_by,
    }


@click.group()
def sla() -> None:
    """SLA policies (one per queue and priority), holidays, escalation scans and reports."""


@sla.command("set")
@click.argument("name")
@click.option(
    "--priority", required=True, metavar="P", help=f"Priority it covers: {', '.join(PRIORITIES)}."
)
@click.option("--queue", metavar="Q", help="Only tickets in this queue (default: every queue).")
@click.option(
    "--default/--no-default",
    "default",
    default=None,
    help="Also cover tickets no other policy matches (one default policy at most).",
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
    "--escalate-to",
    multiple=True,
    metavar="EMAIL",
    help="Who hears of breaches besides the assignee (repeat for several).",
)
@click.option(
    "--escalate-by",
    type=click.Choice(ESCALATE_BY),
    default=None,
    help="How escalations reach agents: sms texts those with a phone number, both mails "
    "and texts them (default: as it was; email for a new policy).",
)
def set_(
    name: str,
    priority: str,
    queue: str | None,
    default: bool | None,
    first_response: str,
    resolution: str,
    hours: str,
    tz: str,
    warn_at: int,
    escalate_to: tuple[str, ...],
    escalate_by: str | None,
) -> None:
    """Create or replace the policy NAME."""
    with transaction() as session:
        policy = domain.set_policy(
            session,
            name,
            priority=priority,
            queue=queue,
            default=default,
            first_response=first_response,
            resolution=resolution,
            hours=hours,
            tz=tz,
            warn_at=warn_at,
            escalate_to=escalate_to,
            escalate_by=escalate_by,
        )
        where = f" in queue {queue}" if queue is not None else ""
        extra = " (and the default policy)" if policy.is_default else ""
    done(f"SLA policy {policy.name} set for {policy.priority} tickets{where}{extra}")


@sla.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, urgent first.")
def list_(as_json: bool) -> None:
    """List the SLA policies, most urgent first."""
    with transaction() as session:
        queues = domain.queue_names(session)
        records = [policy_record(p, queues) for p in domain.list_policies(session)]
    if as_json:
        print_json(records)
        return
    print_table(
        (
            "name",
            "queue",
            "priority",
            "first response",
            "resolution",
            "hours",
            "tz",
            "warn at",
            "escalate to",
            "by",
        ),
        (
            (
                r["name"] + (" (default)" if r["default"] else ""),
                r["queue"] or "(all)",
                r["priority"],
                r["first_response"],
                r["resolution"],
                r["business_hours"],
                r["timezone"],
                f"{r['warn_at_percent']}%",
                ", ".join(r["escalate_to"]) or "-",
                r["escalate_by"],
            )
            for r in records
        ),
    )


@sla.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Delete the policy NAME and its own holidays; new tickets it covered fall back."""
    with transaction() as session:
        domain.delete_policy(session, name)
    done(f"deleted SLA policy {name}")


sla.add_command(report)


@sla.group("holidays")
def holidays_() -> None:
    """Days on which the SLA clock does not run (all policies, or one)."""


_POLICY = click.option(
    "--policy", metavar="NAME", help="Only this policy's clock (default: every policy)."
)


@holidays_.command("add")
@click.argument("day", metavar="DATE")
@_POLICY
@click.option("--name", default="", metavar="TEXT", help="What the day is, e.g. 'Christmas'.")
def holidays_add(day: str, policy: str | None, name: str) -> None:
    """Make DATE (YYYY-MM-DD) a holiday, in each policy's own time zone."""
    when = holidays.parse_day(day)
    with transaction() as session:
        holidays.add_holiday(session, when, policy=policy, name=name)
    done(f"{when.isoformat()} is a holiday for {holidays.scope(policy)}")


@holidays_.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, earliest first.")
def holidays_list(as_json: bool) -> None:
    """List the holidays, earliest first."""
    with transaction() as session:
        records = [
            {"date": h.day.isoformat(), "policy": policy, "name": h.name}
            for h, policy in holidays.list_holidays(session)
        ]
    if as_json:
        print_json(records)
        return
    print_table(
        ("date", "policy", "name"),
        ((r["date"], r["policy"] or "(all)", r["name"]) for r in records),
    )


@holidays_.command("remove")
@click.argument("day", metavar="DATE")
@_POLICY
def holidays_remove(day: str, policy: str | None) -> None:
    """Make DATE a working day again (for --policy, or for all policies)."""
    when = holidays.parse_day(day)
    with transaction() as session:
        holidays.remove_holiday(session, when, policy=policy)
    done(f"{when.isoformat()} is no longer a holiday for {holidays.scope(policy)}")


sla.add_command(sla_scan_cmd.scan)
