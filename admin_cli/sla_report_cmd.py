"""``ticketgw sla report``: how each policy and each agent kept the promised times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click

from admin_cli.context import transaction
from admin_cli.output import echo, iso, print_json, print_table
from admin_cli.params import AT_HELP, Moment, Since
from gateway.reports.sla_report import sla_report
from schema.models.base import utcnow


@click.command("report")
@click.option(
    "--since", type=Since(), default="7d", show_default=True, help="Tickets created this recently."
)
@click.option("--at", "at", type=Moment(), help=AT_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report(since: timedelta, at: datetime | None, as_json: bool) -> None:
    """Compliance, median and p90 times per policy and agent; breaches and risks now.

    Compliance and times are for the tickets created in the window, times in business
    hours of each ticket's policy. Breached and at-risk count every open ticket now;
    at risk means past the policy's warning threshold (warn_at_percent) but not breached.
    """
    now = at or utcnow()
    with transaction() as session:
        data = sla_report(session, now - since, now)
    if as_json:
        print_json({**data, "since": iso(data["since"]), "now": iso(data["now"])})
        return
    echo(f"Tickets created from {iso(data['since'])} to {iso(data['now'])}")
    for key, title in (("policies", "policy"), ("agents", "agent")):
        print_table(
            (title, "tickets", "1st resp met", "1st resp median/p90 h",
             "resolved met", "resolution median/p90 h", "breached", "at risk"),
            (_row(r) for r in data[key]),
            title=f"By {title}",
        )  # fmt: skip


def _row(r: dict[str, Any]) -> tuple[object, ...]:
    return (
        r["name"],
        r["tickets"],
        _percent(r["first_response"]),
        _times(r["first_response"]),
        _percent(r["resolution"]),
        _times(r["resolution"]),
        r["breached"],
        r["at_risk"],
    )


def _percent(part: dict[str, Any]) -> str | None:
    if part["percent_met"] is None:
        return None
    return f"{part['percent_met']:g}% ({part['met']}/{part['met'] + part['missed']})"


def _times(part: dict[str, Any]) -> str | None:
    if part["median_hours"] is None:
        return None
    return f"{part['median_hours']:g} / {part['p90_hours']:g}"
