"""Mail at the size limit: stored byte for byte, or refused whole, over a real socket.

The listener collects DATA itself (``gateway.inbound.smtp.InboxSMTP``), so these check what
aiosmtpd used to guarantee: dot-unstuffing, ``552`` over the limit, ``500`` for an overlong
line, and a session that goes on normally after a refusal.
"""

from __future__ import annotations

import smtplib

from sqlalchemy import select

from admin_cli.app import Gateway
from schema.models import InboxItem

LIMIT = 200_000  # TICKETGW_MAX_MESSAGE_BYTES of the listener fixture
SENDER = "bob@example.org"
SUPPORT = "support@example.com"


def mail_of_size(wire_size: int, tag: str) -> bytes:
    """A CRLF mail taking exactly ``wire_size`` bytes of DATA once smtplib dot-stuffs it.

    Every body line starts with a dot (sent doubled, stored single); 8-bit bytes and
    998-byte lines, the longest RFC 5322 allows, travel unchanged.
    """
    head = (
        f"From: Bob <{SENDER}>\r\nTo: {SUPPORT}\r\nSubject: big {tag}\r\n"
        f"Message-ID: <big.{tag}@example.org>\r\n\r\n"
    ).encode()
    line = b"." + bytes(range(0x80, 0x80 + 96)) * 10 + b"x" * 37 + b"\r\n"
    lines, rest = divmod(wire_size - len(head), len(line) + 1)  # +1: the doubled dot
    last = b"." + b"y" * (rest - 4) + b"\r\n" if rest else b""
    raw = head + line * lines + last
    assert len(raw) + raw.count(b"\n.") == wire_size
    return raw


def stored(gw: Gateway) -> list[bytes]:
    with gw.runtime.sessions() as s:
        return [bytes(raw) for raw in s.scalars(select(InboxItem.raw).order_by(InboxItem.id))]


def test_mail_at_the_limit_is_stored_byte_for_byte(gateway: Gateway) -> None:
    first, second = mail_of_size(LIMIT, "a"), mail_of_size(LIMIT - 5000, "b")
    with smtplib.SMTP(*gateway.smtp_address, timeout=30) as client:
        assert client.sendmail(SENDER, [SUPPORT], first) == {}
        assert client.sendmail(SENDER, [SUPPORT], second) == {}
    assert stored(gateway) == [first, second]


def test_one_byte_over_the_limit_gets_552_and_the_session_goes_on(gateway: Gateway) -> None:
    over, fine = mail_of_size(LIMIT + 1, "over"), mail_of_size(LIMIT, "fine")
    with smtplib.SMTP(*gateway.smtp_address, timeout=30) as client:
        client.ehlo()
        client.mail(SENDER)
        client.rcpt(SUPPORT)
        code, _ = client.data(over)
        assert code == 552
        assert client.sendmail(SENDER, [SUPPORT], fine) == {}
    assert stored(gateway) == [fine]


def test_overlong_line_gets_500(gateway: Gateway) -> None:
    raw = mail_of_size(5000, "long") + b"z" * 1001 + b"\r\n"
    with smtplib.SMTP(*gateway.smtp_address, timeout=30) as client:
        client.ehlo()
        client.mail(SENDER)
        client.rcpt(SUPPORT)
        code, text = client.data(raw)
        assert (code, text) == (500, b"Line too long (see RFC5321 4.5.3.1.6)")
        assert client.noop()[0] == 250
    assert stored(gateway) == []
