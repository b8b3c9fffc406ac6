"""``ticketgw agents``: the people who answer tickets."""

from __future__ import annotations

from typing import Any

import click

from admin_cli.context import transaction
from admin_cli.output import done, iso, print_json, print_table
from gateway import agents as domain
from schema.models import Agent
from schema.models.people import ROLES

ROLE_HELP = f"One of {', '.join(ROLES)}."


def agent_record(agent: Agent) -> dict[str, Any]:
    """JSON keys of `agents list --json`."""
    return {
        "email": agent.email,
        "name": agent.name,
        "phone": agent.phone,
        "role": agent.role,
        "active": agent.active,
        "created_at": iso(agent.created_at),
    }


@click.group()
def agents() -> None:
    """Add, change, disable and list agents."""


@agents.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name, shown to customers.")
@click.option("--phone", help="Mobile number in international form, e.g. +14155550123.")
@click.option("--role", default="agent", show_default=True, metavar="ROLE", help=ROLE_HELP)
def add(email: str, name: str, phone: str | None, role: str) -> None:
    """Add the agent EMAIL."""
    with transaction() as session:
        agent = domain.add_agent(session, email, name, phone=phone, role=role)
    done(f"added agent {agent.email} ({agent.role})")


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, sorted by email.")
def list_(as_json: bool) -> None:
    """List all agents, active or not."""
    with transaction() as session:
        records = [agent_record(a) for a in domain.list_agents(session)]
    if as_json:
        print_json(records)
        return
    print_table(
        ("email", "name", "phone", "role", "active"),
        ((r["email"], r["name"], r["phone"], r["role"], r["active"]) for r in records),
    )


@agents.command("update")
@click.argument("email")
@click.option("--name", help="New name.")
@click.option("--phone", help='New mobile number; "" removes it.')
@click.option("--role", metavar="ROLE", help=ROLE_HELP)
@click.option("--email", "new_email", help="New email address.")
def update(
    email: str, name: str | None, phone: str | None, role: str | None, new_email: str | None
) -> None:
    """Change the agent EMAIL; options not given stay as they are."""
    with transaction() as session:
        agent = domain.update_agent(
            session, email, name=name, phone=phone, role=role, new_email=new_email
        )
    done(f"updated agent {agent.email}")


@agents.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable the agent EMAIL: kept for history, but no longer assignable."""
    with transaction() as session:
        agent = domain.set_active(session, email, False)
    done(f"disabled agent {agent.email}")


@agents.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Enable the agent EMAIL again."""
    with transaction() as session:
        agent = domain.set_active(session, email, True)
    done(f"enabled agent {agent.email}")
