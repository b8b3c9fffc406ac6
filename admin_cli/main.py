"""``ticketgw``: the admin command. Each command group lives in its own module.

Errors: every :class:`~gateway.errors.GatewayError` becomes one line on stderr,
``error: <message>``, and the process exits with the error's ``exit_code`` (2 for bad
input, unknown names and configuration, 1 for operations that failed). Click's own usage
errors exit 2. A user mistake never shows a traceback.
"""

from __future__ import annotations

import importlib
from typing import IO, Any

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import GatewayError, one_line
from schema.text import safe_text

# Command name -> (module, attribute). Loaded when used: importing every command's
# dependencies (the SMTP server, Dramatiq and Redis for serve and worker) took a second
# before any command ran; ``mail ingest`` needs half of that.
COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("admin_cli.config_cmd", "config"),
    "contacts": ("admin_cli.contacts_cmd", "contacts"),
    "db": ("admin_cli.db_cmd", "db"),
    "agents": ("admin_cli.agents", "agents"),
    "queues": ("admin_cli.queues", "queues"),
    "sla": ("admin_cli.slas", "sla"),
    "tickets": ("admin_cli.tickets", "tickets"),
    "templates": ("admin_cli.templates_cmd", "templates"),
    "mail": ("admin_cli.mail_cmd", "mail"),
    "mailboxes": ("admin_cli.mailboxes_cmd", "mailboxes"),
    "serve": ("admin_cli.serve_cmd", "serve"),
    "imap": ("admin_cli.serve_cmd", "imap"),
    "demo": ("admin_cli.demo", "demo"),
    "outbox": ("admin_cli.outbox_cmd", "outbox"),
    "worker": ("admin_cli.worker_cmd", "worker"),
    "sms": ("admin_cli.sms_cmd", "sms"),
    "stats": ("admin_cli.stats_cmd", "stats"),
}


class Failed(click.ClickException):
    """A GatewayError on its way out through click's own error exit."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        # A class variable in click's stubs; per instance here, one class for every code.
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {safe_text(self.format_message())}", err=True, file=file)


class TicketgwGroup(click.Group):
    """The root group: the single place where domain errors turn into exit codes.

    It also loads each command's module only when that command is used (or listed).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GatewayError as err:
            raise Failed(str(err), err.exit_code) from err
        except SQLAlchemyError as err:
            # The database went away, is locked, or refused a value mid-command: an
            # operation failure, in one line, never the statement and its parameters.
            raise Failed(f"database error: {one_line(err)}", 1) from err


@click.group(cls=TicketgwGroup)
@click.version_option(package_name="ticket-gateway", prog_name="ticketgw")
def cli() -> None:
    """Run and administer the ticket gateway: mail in, notifications out, tickets.

    Settings come from TICKETGW_* environment variables (see `ticketgw config show`).
    Exit codes: 0 success, 1 operation failed, 2 bad usage or bad input.
    """


if __name__ == "__main__":
    cli()
