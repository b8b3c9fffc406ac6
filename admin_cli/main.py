"""``ticketgw``: the admin command. Each command group lives in its own module.

Errors: every :class:`~gateway.errors.GatewayError` becomes one line on stderr,
``error: <message>``, and the process exits with the error's ``exit_code`` (2 for bad
input, unknown names and configuration, 1 for operations that failed). Click's own usage
errors exit 2. A user mistake never shows a traceback.
"""

from __future__ import annotations

from typing import IO, Any

import click
from sqlalchemy.exc import OperationalError

from admin_cli import (
    agents,
    config_cmd,
    db_cmd,
    demo,
    mail_cmd,
    outbox_cmd,
    queues,
    serve_cmd,
    slas,
    templates_cmd,
    tickets,
    worker_cmd,
)
from gateway.errors import GatewayError


class Failed(click.ClickException):
    """A GatewayError on its way out through click's own error exit."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class TicketgwGroup(click.Group):
    """The root group: the single place where domain errors turn into exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GatewayError as err:
            raise Failed(str(err), err.exit_code) from err
        except OperationalError as err:
            # The database went away or is locked mid-command: an operation failure.
            detail = str(err.orig or err).strip().splitlines()[0]
            raise Failed(f"database error: {detail}", 1) from err


@click.group(cls=TicketgwGroup)
@click.version_option(package_name="ticket-gateway", prog_name="ticketgw")
def cli() -> None:
    """Run and administer the ticket gateway: mail in, notifications out, tickets.

    Settings come from TICKETGW_* environment variables (see `ticketgw config show`).
    Exit codes: 0 success, 1 operation failed, 2 bad usage or bad input.
    """


for group in (
    config_cmd.config,
    db_cmd.db,
    agents.agents,
    queues.queues,
    slas.sla,
    tickets.tickets,
    templates_cmd.templates,
    mail_cmd.mail,
    serve_cmd.serve,
    demo.demo,
    outbox_cmd.outbox,
    worker_cmd.worker,
):
    cli.add_command(group)


if __name__ == "__main__":
    cli()
