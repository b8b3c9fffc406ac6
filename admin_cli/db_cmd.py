"""``ticketgw db``: schema migrations."""

from __future__ import annotations

import click

from admin_cli.context import runtime
from admin_cli.output import done
from schema.db import current_revision


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
def upgrade() -> None:
    """Migrate the database to the latest schema (safe to repeat).

    Also creates the `default` queue for TICKETGW_SUPPORT_ADDRESS and the default SLA
    policies when they are missing.
    """
    done(f"database at revision {migrate_to_head()}")


def migrate_to_head() -> str:
    """Run the migrations for this command and return the revision reached."""
    return current_revision(runtime(migrate=True).engine) or "(none)"
