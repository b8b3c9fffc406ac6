"""``ticketgw serve``: run the gateway's listeners and inbox processor."""

from __future__ import annotations

import click

from admin_cli.app import Gateway
from admin_cli.app import serve as run_gateway
from admin_cli.context import runtime
from gateway.logs import setup_logging


@click.command()
def serve() -> None:
    """Receive mail over SMTP and process it until stopped (Ctrl-C or SIGTERM).

    Migrates the database first. Mail accepted before a crash is processed on the next start.
    """
    setup_logging()
    rt = runtime(migrate=True)

    def started(gateway: Gateway) -> None:
        host, port = gateway.smtp_address or ("?", 0)
        addresses = ", ".join(rt.settings.support_address)
        click.echo(f"ticketgw: SMTP on {host}:{port} for {addresses}; Ctrl-C stops", err=True)

    run_gateway(rt, on_started=started)
