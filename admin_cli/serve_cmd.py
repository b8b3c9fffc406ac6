"""``ticketgw serve``: run the gateway's listeners and inbox processor."""

from __future__ import annotations

import click

from admin_cli.app import Gateway
from admin_cli.app import serve as run_gateway
from admin_cli.context import runtime
from gateway.logs import setup_logging


@click.command()
@click.option("--verbose", is_flag=True, help="Also log every SMTP command the listener receives.")
def serve(verbose: bool) -> None:
    """Receive mail (SMTP) and SMS (Twilio webhooks over HTTP) until stopped (Ctrl-C, SIGTERM).

    Migrates the database first. What was accepted before a crash is processed on the next
    start.
    """
    setup_logging(verbose=verbose)
    rt = runtime(migrate=True)

    def started(gateway: Gateway) -> None:
        host, port = gateway.smtp_address or ("?", 0)
        http_host, http_port = gateway.http_address or ("?", 0)
        addresses = ", ".join(rt.settings.support_address)
        click.echo(
            f"ticketgw: SMTP on {host}:{port} for {addresses}, HTTP (Twilio) on "
            f"{http_host}:{http_port}; Ctrl-C stops",
            err=True,
        )

    run_gateway(rt, on_started=started)
