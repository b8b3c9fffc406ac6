"""``ticketgw sms``: try the configured Twilio account by sending one SMS."""

from __future__ import annotations

import click

from admin_cli.output import print_json
from gateway.config import load_settings
from gateway.identities import normalize_phone
from gateway.sms.segments import measure
from workers.send_sms import STATUS_CALLBACK_PATH
from workers.transports.base import OutgoingSms
from workers.transports.twilio import TwilioTransport

TEST_TEXT = "Test SMS from ticket-gateway: your Twilio settings work."


@click.group()
def sms() -> None:
    """SMS through Twilio."""


@sms.command("send-test")
@click.argument("number")
@click.option("--text", default=TEST_TEXT, show_default=True, help="What to send.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: sid, to, from, segments.")
def send_test(number: str, text: str, as_json: bool) -> None:
    """Send one SMS to NUMBER through the configured account and print Twilio's SID.

    Uses TICKETGW_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM and _API_BASE exactly as the
    workers do, and asks for delivery reports at TICKETGW_PUBLIC_URL/twilio/status when a
    public URL is set. Exit 2 for a bad number or missing settings, 1 when Twilio refuses.
    """
    settings = load_settings()
    to = normalize_phone(number)
    transport = TwilioTransport.from_settings(settings, timeout=30.0)
    sender = settings.twilio_from or ""
    public = settings.public_url
    message = OutgoingSms(
        to=to,
        sender=sender,
        body=text,
        status_callback=public + STATUS_CALLBACK_PATH if public else None,
    )
    sid = transport.send(message)
    segments = measure(text).segments
    if as_json:
        print_json({"sid": sid, "to": to, "from": sender, "segments": segments})
        return
    click.echo(f"sent {sid} to {to} from {sender} ({segments} segment(s))")
