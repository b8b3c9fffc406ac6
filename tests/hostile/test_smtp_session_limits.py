"""Session limits, as Postfix has them: a client that only makes errors, or only sends
NOOP/RSET, is shown the door (421) instead of holding a connection and the listener's
time; a client that delivers mail is never cut."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import func, select

from admin_cli.app import Gateway
from gateway.inbound.smtp import InboxSMTP
from schema.models import InboxItem
from tests.inbound.mails import new_request


def _replies_until_421(client: smtplib.SMTP, command: str, limit: int) -> int:
    """Send ``command`` until the server says 421; how many were sent."""
    for sent in range(1, limit + 1):
        code, _ = client.docmd(command)
        if code == 421:
            return sent
    pytest.fail(f"no 421 after {limit} x {command}")


def test_a_flood_of_unknown_recipients_ends_the_session(gateway: Gateway) -> None:
    limit = InboxSMTP.hard_error_limit
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        client.mail("spammer@example.org")
        sent = _replies_until_421(client, "RCPT TO:<nobody@example.com>", 5 * limit)
        assert sent == limit + 1  # the limit's error, then 421 to the next command
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as other:  # others are served
        assert (
            other.sendmail("bob@example.org", ["support@example.com"], b"Subject: x\r\n\r\nx") == {}
        )


def test_a_session_of_only_noop_and_rset_ends(gateway: Gateway) -> None:
    limit = InboxSMTP.junk_command_limit + InboxSMTP.hard_error_limit
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        half = InboxSMTP.junk_command_limit // 2
        for _ in range(half):
            assert client.rset()[0] == 250
        sent = half + _replies_until_421(client, "NOOP", 2 * limit)
        assert sent == limit  # the junk command that reaches the error limit gets 421
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


def test_a_client_that_delivers_is_never_cut(gateway: Gateway) -> None:
    count = InboxSMTP.hard_error_limit + 5
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        for i in range(count):
            # A relay's connection cache: RSET and NOOP between mails, and the odd
            # unknown recipient among known ones.
            client.rset()
            client.noop()
            for _ in range(InboxSMTP.junk_command_limit // count + 1):
                client.noop()
            mail = new_request(subject=f"mail {i}").as_bytes()
            refused = client.sendmail(
                "bob@example.org", ["support@example.com", "x@example.com"], mail
            )
            assert set(refused) == {"x@example.com"}
    assert gateway.processor.wait_idle(30)
    with gateway.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboxItem)) == count
