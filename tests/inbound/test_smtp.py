"""The SMTP listener, through a real socket with smtplib."""

from __future__ import annotations

import smtplib
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from gateway.server import Gateway
from schema.models import InboxItem, Message
from tests.inbound.mails import new_request


def _rows(gw: Gateway) -> list[InboxItem]:
    with gw.runtime.sessions() as s:
        return list(s.scalars(select(InboxItem).order_by(InboxItem.id)))


def test_mail_is_stored_before_250_then_processed(gateway: Gateway) -> None:
    mail = new_request()
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        code, text = client.ehlo()
        assert code == 250
        assert b"SIZE 200000" in text
        refused = client.sendmail("bob@example.org", ["Support@Example.COM"], mail.as_bytes())
        assert refused == {}
        # The 250 has been given: the raw mail must be in the inbox already.
        [row] = _rows(gateway)
        assert row.envelope_recipients == ["support@example.com"]
        assert row.envelope_sender == "bob@example.org"
    assert gateway.processor.wait_idle(10)
    [row] = _rows(gateway)
    assert (row.status, row.classification, row.thread_decision) == ("done", "customer", "new")


def test_unknown_recipient_is_refused_at_rcpt(gateway: Gateway) -> None:
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        client.mail("bob@example.org")
        code, text = client.rcpt("sales@example.com")
        assert code == 550
        assert text.startswith(b"5.1.1")
        code, _ = client.rcpt("support+anything@example.com")
        assert code == 250, "plus-addressed support addresses are accepted"
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("bob@example.org", ["nobody@example.com"], b"Subject: x\r\n\r\nx\r\n")
    assert _rows(gateway) == []


def test_oversized_mail_gets_552(gateway: Gateway) -> None:
    big = new_request(body=("x" * 70 + "\n") * 3500)
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        client.mail("bob@example.org")
        client.rcpt("support@example.com")
        code, _ = client.data(big.as_bytes())
        assert code == 552
    assert _rows(gateway) == []


def test_same_mail_twice_is_one_message(gateway: Gateway) -> None:
    raw = new_request().as_bytes()
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.sendmail("bob@example.org", ["support@example.com"], raw)
        client.mail("bob@example.org")
        client.rcpt("support@example.com")
        code, text = client.data(raw)
        assert code == 250
        assert b"already have it" in text
    assert gateway.processor.wait_idle(10)
    with gateway.runtime.sessions() as s:
        assert len(s.scalars(select(Message)).all()) == 1
    assert len(_rows(gateway)) == 1


def test_many_clients_at_once(gateway: Gateway) -> None:
    def send(i: int) -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP(*gateway.smtp_address, timeout=20) as client:
            mail = new_request(sender=f"c{i}@example.org", subject=f"request {i}")
            return client.sendmail(f"c{i}@example.org", ["support@example.com"], mail.as_bytes())

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(send, range(40))) == [{}] * 40
    assert gateway.processor.wait_idle(20)
    rows = _rows(gateway)
    assert len(rows) == 40
    assert {r.status for r in rows} == {"done"}
