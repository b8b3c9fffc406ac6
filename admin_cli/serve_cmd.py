"""``ticketgw serve`` and ``ticketgw imap``: run the listeners and the inbox processor."""

from __future__ import annotations

import click

from admin_cli.app import Gateway
from admin_cli.app import serve as run_gateway
from admin_cli.context import runtime
from gateway.logs import setup_logging


def _mailboxes(gateway: Gateway) -> str:
    names = gateway.imap_mailboxes or []
    return f"IMAP: {', '.join(names)}" if names else "no IMAP mailboxes"


@click.command()
@click.option("--verbose", is_flag=True, help="Also log every SMTP command the listener receives.")
def serve(verbose: bool) -> None:
    """Receive mail (SMTP, IMAP mailboxes) and SMS (Twilio webhooks) until stopped.

    Stops on Ctrl-C or SIGTERM. Migrates the database first. What was accepted before a
    crash is processed on the next start. Mailboxes added or changed with `ticketgw
    mailboxes` are picked up within seconds.
    """
    setup_logging(verbose=verbose)
    rt = runtime(migrate=True)

    def started(gateway: Gateway) -> None:
        host, port = gateway.smtp_address or ("?", 0)
        http_host, http_port = gateway.http_address or ("?", 0)
        addresses = ", ".join(rt.settings.support_address)
        click.echo(
            f"ticketgw: SMTP on {host}:{port} for {addresses}, HTTP (Twilio) on "
            f"{http_host}:{http_port}; {_mailboxes(gateway)}; Ctrl-C stops",
            err=True,
        )

    run_gateway(rt, on_started=started)


@click.command()
def imap() -> None:
    """Read the IMAP mailboxes and process their mail until stopped, without SMTP or HTTP.

    For a gateway whose mail only comes from hosted mailboxes, or to run the IMAP pollers
    in a process of their own. Stops on Ctrl-C or SIGTERM.
    """
    setup_logging()
    rt = runtime(migrate=True)

    def started(gateway: Gateway) -> None:
        click.echo(f"ticketgw: {_mailboxes(gateway)}; Ctrl-C stops", err=True)

    run_gateway(rt, on_started=started, smtp_and_http=False)
