"""Mail that lies about its text: NUL bytes, UTF-16 in disguise, charsets that lie.

Each mail goes through the real listener (smtplib) and the real pipeline. Whatever it
carries, it ends on a ticket, every text stored is valid UTF-8 without NUL, and the raw
mail is kept byte for byte.
"""

from __future__ import annotations

import base64
import smtplib

import pytest
from sqlalchemy import select

from admin_cli.app import Gateway
from schema.models import Contact, InboxItem, Message, Ticket

HEAD = (
    b"From: Bob Jones <bob@example.org>\r\n"
    b"To: support@example.com\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
)


def _mail(headers: bytes, body: bytes, mid: str) -> bytes:
    return b"%sMessage-ID: <%s@example.org>\r\n%s\r\n%s" % (HEAD, mid.encode(), headers, body)


# Shift_JIS bytes for "山田太郎" (a name) and "請求書について" (about the invoice).
NAME_SJIS = "山田太郎".encode("shift_jis")
SUBJECT_SJIS = "請求書について".encode("shift_jis")

MAILS = {
    "nul-in-subject": _mail(
        b"Subject: Printer\x00 on fire\r\nContent-Type: text/plain; charset=utf-8\r\n",
        b"Please help.\r\n",
        "nul-subject",
    ),
    "nul-in-display-name": HEAD.replace(b"Bob Jones", b"Bob\x00Jones")
    + b"Message-ID: <nul-name@example.org>\r\nSubject: Help\r\n\r\nPlease help.\r\n",
    "nul-in-body": _mail(
        b"Subject: Help\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n",
        b"Please\x00 help.\r\n",
        "nul-body",
    ),
    "qp-00": _mail(
        b"Subject: Help\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Please=00 help=E9.\r\n",
        "qp-00",
    ),
    "utf16-declared-latin1": _mail(
        b"Subject: Help\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: base64\r\n",
        base64.encodebytes("Please help, my printer is on fire.\r\n".encode("utf-16")),
        "utf16",
    )
    .replace(b"\n", b"\r\n")
    .replace(b"\r\r\n", b"\r\n"),
    "nul-in-html": _mail(
        b"Subject: Help\r\nContent-Type: text/html; charset=utf-8\r\n",
        b"<p>Please\x00 help.</p>\r\n",
        "nul-html",
    ),
    "charset-lies": (
        b"From: =?ISO-2022-JP?B?" + base64.b64encode(NAME_SJIS) + b"?= "
        b"<yamada@example.jp>\r\n"
        b"To: support@example.com\r\nMessage-ID: <sjis@example.jp>\r\n"
        b"Subject: " + SUBJECT_SJIS + b"\r\n"
        b"Content-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: 8bit\r\n"
        b"\r\n" + "よろしくお願いします。".encode("shift_jis") + b"\r\n"
    ),
}


def _clean(text: str | None) -> bool:
    return text is None or ("\x00" not in text and text.encode("utf-8", "strict") is not None)


@pytest.mark.parametrize("name", sorted(MAILS))
def test_mail_with_lying_text_lands_on_a_ticket(gateway: Gateway, name: str) -> None:
    raw = MAILS[name]
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        assert client.sendmail("bob@example.org", ["support@example.com"], raw) == {}
    assert gateway.processor.wait_idle(20)
    with gateway.runtime.sessions() as s:
        [item] = s.scalars(select(InboxItem)).all()
        assert (item.status, item.reason) == ("done", None)
        assert item.raw == raw, "the raw mail is kept byte for byte"
        [message] = s.scalars(select(Message)).all()
        [ticket] = s.scalars(select(Ticket)).all()
    for text in (message.subject, message.sender, message.visible_text, message.full_text,
                 message.html, ticket.subject):  # fmt: skip
        assert _clean(text), (name, text)
    assert "help" in (message.full_text + message.subject).lower() or name == "charset-lies"


def test_charsets_that_lie_are_decoded_like_bodies(gateway: Gateway) -> None:
    raw = MAILS["charset-lies"]
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.sendmail("yamada@example.jp", ["support@example.com"], raw)
    assert gateway.processor.wait_idle(20)
    with gateway.runtime.sessions() as s:
        [message] = s.scalars(select(Message)).all()
        [ticket] = s.scalars(select(Ticket)).all()
    assert ticket.subject == "請求書について"
    assert message.full_text.strip() == "よろしくお願いします。"


def test_utf16_declared_as_latin1_is_read_as_utf16(gateway: Gateway) -> None:
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.sendmail("bob@example.org", ["support@example.com"], MAILS["utf16-declared-latin1"])
    assert gateway.processor.wait_idle(20)
    with gateway.runtime.sessions() as s:
        [message] = s.scalars(select(Message)).all()
    assert message.full_text.strip() == "Please help, my printer is on fire."


def test_nul_in_a_display_name_is_dropped_from_the_contact(gateway: Gateway) -> None:
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.sendmail("bob@example.org", ["support@example.com"], MAILS["nul-in-display-name"])
    assert gateway.processor.wait_idle(20)
    with gateway.runtime.sessions() as s:
        [contact] = s.scalars(select(Contact)).all()
    assert contact.name == "BobJones"
