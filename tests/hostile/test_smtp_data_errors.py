"""A data error is not an outage: what no retry can fix gets 5xx, or is stored anyway.

Through the real listener with smtplib: the sending MTA must never be told "451, try
again" for a mail that will fail the same way on every attempt.
"""

from __future__ import annotations

import smtplib

from sqlalchemy import select

from admin_cli.app import Gateway
from schema.models import InboxItem, Message
from tests.conftest import Ingest


def _mail(mid: bytes) -> bytes:
    return (
        b"From: Bob <bob@example.org>\r\nTo: support@example.com\r\n"
        b"Subject: Printer on fire\r\nMessage-ID: " + mid + b"\r\n\r\nPlease help.\r\n"
    )


def test_nul_in_the_message_id_is_stored_once(gateway: Gateway) -> None:
    raw = _mail(b"<abc\x00def@example.org>")
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        for expected in (b"queued as", b"already have it"):
            client.mail("bob@example.org")
            client.rcpt("support@example.com")
            code, text = client.data(raw)
            assert code == 250, text
            assert expected in text
    assert gateway.processor.wait_idle(20)
    with gateway.runtime.sessions() as s:
        [item] = s.scalars(select(InboxItem)).all()
        assert (item.status, item.raw) == ("done", raw)
        [message] = s.scalars(select(Message)).all()
    assert message.email_message_id == "abcdef@example.org"


def test_message_ids_past_the_column_are_told_apart(ingest: Ingest) -> None:
    # Longer than an SMTP line allows, but an IMAP or file import brings them: two ids
    # that share their first 1,000 characters are two mails, not one.
    stem = b"x" * 1200
    first, second = (ingest(_mail(b"<" + stem + tail + b"@example.org>")) for tail in (b"1", b"2"))
    assert (first.status, second.status) == ("done", "done")
    assert first.item_id != second.item_id


def test_an_envelope_sender_past_any_limit_is_refused_for_good(gateway: Gateway) -> None:
    sender = "a" * 400 + "@example.org"
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        code, text = client.mail(sender)
        assert code // 100 == 5, (code, text)
        assert text.startswith(b"5.1.7")
        # The session goes on: the same client with a usable address is served.
        client.rset()
        assert client.sendmail("bob@example.org", ["support@example.com"], _mail(b"<ok@x>")) == {}
