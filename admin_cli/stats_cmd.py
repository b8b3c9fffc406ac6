"""``ticketgw stats``: volume, backlog, response times and satisfaction at a glance."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from admin_cli.context import transaction
from admin_cli.output import echo, iso, print_json, print_table, stdout
from admin_cli.params import AT_HELP, Moment, Since
from gateway.reports.stats import stats as compute
from schema.models.base import utcnow

BAR = "█"
BAR_WIDTH = 40


@click.command()
@click.option("--since", type=Since(), default="30d", show_default=True, help="Look back this far.")
@click.option("--at", "at", type=Moment(), help=AT_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--chart", is_flag=True, help="Draw daily volume as a bar chart.")
def stats(since: timedelta, at: datetime | None, as_json: bool, chart: bool) -> None:
    """Tickets per day and channel, open tickets, backlog age, times and CSAT.

    Days are UTC days. Times are wall-clock hours (`sla report` gives business hours).
    """
    now = at or utcnow()
    with transaction() as session:
        data = compute(session, now - since, now)
    data = {**data, "since": iso(data["since"]), "now": iso(data["now"])}
    data["backlog"]["oldest_created_at"] = iso(data["backlog"]["oldest_created_at"])
    if as_json:
        print_json(data)
        return
    _tables(data)
    if chart:
        _chart(data["volume"])


def _tables(data: dict[str, Any]) -> None:
    echo(f"From {data['since']} to {data['now']}")
    channels = sorted({c for day in data["volume"] for c in day["by_channel"]})
    print_table(
        ("day", "total", *channels),
        ((d["day"], d["total"], *(d["by_channel"].get(c, 0) for c in channels))
         for d in data["volume"]),
        title="New tickets per day",
    )  # fmt: skip
    for key, title in (("by_status", "status"), ("by_priority", "priority"), ("by_queue", "queue")):
        print_table((title, "open"), data["open"][key].items(), title=f"Open by {title}")
    backlog = data["backlog"]
    print_table(
        ("open", "< 1 day", "1-3 days", "3-7 days", "> 7 days", "oldest"),
        [(backlog["open"], backlog["under_1d"], backlog["1d_to_3d"], backlog["3d_to_7d"],
          backlog["over_7d"], backlog["oldest_created_at"])],
        title="Backlog age",
    )  # fmt: skip
    times = data["times"]
    print_table(
        ("", "tickets", "median h", "p90 h"),
        [(name, t["count"], _hours(t["median_hours"]), _hours(t["p90_hours"]))
         for name, t in (("first response", times["first_response"]),
                         ("resolution", times["resolution"]))],
        title="Times (wall clock)",
    )  # fmt: skip
    csat = data["csat"]
    rate = None if csat["response_rate"] is None else f"{csat['response_rate']:g}%"
    print_table(
        ("surveys", "answered", "response rate", "average (1-5)"),
        [(csat["asked"], csat["answered"], rate, csat["average"])],
        title="Satisfaction",
    )


def _hours(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


def _chart(volume: list[dict[str, Any]]) -> None:
    """One bar per day, scaled to the busiest day."""
    if not volume:
        click.echo("(no tickets to chart)")
        return
    top = max(day["total"] for day in volume)
    table = Table(title="Daily volume", title_justify="left", box=None, show_header=False)
    table.add_column("day", no_wrap=True)
    table.add_column("bar", no_wrap=True)
    table.add_column("total", justify="right")
    for day in volume:
        width = max(1, round(BAR_WIDTH * day["total"] / top))
        table.add_row(day["day"], Text(BAR * width, style="cyan"), str(day["total"]))
    stdout().print(table)
