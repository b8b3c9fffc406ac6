"""``ticketgw queues``: where tickets land, and who works them."""

from __future__ import annotations

from typing import Any

import click

from admin_cli.context import transaction
from admin_cli.output import done, print_json, print_table
from gateway import queues as domain
from schema.models import Queue
from schema.models.queues import PRIORITIES

PRIORITY_HELP = f"Default priority of new tickets: {', '.join(PRIORITIES)}."
CSAT_HELP = "Ask the customer for a 1-5 rating when a ticket is first resolved."


def queue_record(queue: Queue) -> dict[str, Any]:
    """JSON keys of `queues list --json`."""
    return {
        "name": queue.name,
        "addresses": sorted(a.address for a in queue.addresses),
        "sms_number": queue.sms_number,
        "default_priority": queue.default_priority,
        "members": sorted(m.email for m in queue.members),
        "csat": queue.csat,
    }


@click.group()
def queues() -> None:
    """Add, change and list queues and their members."""


@queues.command("add")
@click.argument("name")
@click.option(
    "--address", "addresses", multiple=True, required=True, help="Support address (repeatable)."
)
@click.option("--sms-number", help="SMS number routing into the queue, e.g. +14155550123.")
@click.option("--priority", default="normal", show_default=True, help=PRIORITY_HELP)
@click.option("--csat/--no-csat", default=True, show_default=True, help=CSAT_HELP)
def add(
    name: str, addresses: tuple[str, ...], sms_number: str | None, priority: str, csat: bool
) -> None:
    """Add the queue NAME; mail to its addresses lands in it."""
    with transaction() as session:
        queue = domain.add_queue(session, name, addresses, sms_number, priority, csat)
    done(f"added queue {queue.name}")


@queues.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, sorted by name.")
def list_(as_json: bool) -> None:
    """List queues with their addresses, SMS number and members."""
    with transaction() as session:
        records = [queue_record(q) for q in domain.list_queues(session)]
    if as_json:
        print_json(records)
        return
    print_table(
        ("name", "addresses", "sms number", "priority", "csat", "members"),
        (
            (
                r["name"],
                r["addresses"],
                r["sms_number"],
                r["default_priority"],
                r["csat"],
                r["members"],
            )
            for r in records
        ),
    )


@queues.command("update")
@click.argument("name")
@click.option("--add-address", multiple=True, help="Route this address here too (repeatable).")
@click.option("--remove-address", multiple=True, help="Stop routing this address (repeatable).")
@click.option("--sms-number", help='New SMS number; "" removes it.')
@click.option("--priority", help=PRIORITY_HELP)
@click.option("--rename", help="New queue name.")
@click.option("--csat/--no-csat", default=None, help=CSAT_HELP)
def update(
    name: str,
    add_address: tuple[str, ...],
    remove_address: tuple[str, ...],
    sms_number: str | None,
    priority: str | None,
    rename: str | None,
    csat: bool | None,
) -> None:
    """Change the queue NAME; options not given stay as they are."""
    with transaction() as session:
        queue = domain.update_queue(
            session,
            name,
            add_addresses=add_address,
            remove_addresses=remove_address,
            sms_number=sms_number,
            default_priority=priority,
            new_name=rename,
            csat=csat,
        )
    done(f"updated queue {queue.name}")


@queues.group("members")
def members() -> None:
    """Add agents to a queue or remove them."""


@members.command("add")
@click.argument("name")
@click.argument("email")
def member_add(name: str, email: str) -> None:
    """Make the agent EMAIL a member of queue NAME."""
    with transaction() as session:
        queue = domain.add_member(session, name, email)
    done(f"{email.strip().lower()} is a member of queue {queue.name}")


@members.command("remove")
@click.argument("name")
@click.argument("email")
def member_remove(name: str, email: str) -> None:
    """Remove the agent EMAIL from queue NAME."""
    with transaction() as session:
        queue = domain.remove_member(session, name, email)
    done(f"{email.strip().lower()} is no longer a member of queue {queue.name}")
