"""The SMTP listener, through a real socket with smtplib."""

from __future__ import annotations

import smtplib
import ssl
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_cli.app import BackgroundGateway, Gateway
from gateway.config import load_settings
from gateway.runtime import open_runtime
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


@pytest.fixture
def tls_gateway(listener_env: dict[str, str], tmp_path: Path) -> Iterator[Gateway]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {**listener_env, "TICKETGW_SMTP_TLS_CERT": str(cert), "TICKETGW_SMTP_TLS_KEY": str(key)}
    runtime = open_runtime(load_settings(env), migrate=True)
    with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
        yield gw
    runtime.close()


def test_starttls_is_offered_when_a_certificate_is_set(tls_gateway: Gateway) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # a throwaway self-signed certificate
    with smtplib.SMTP(*tls_gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=context)
        assert code == 220
        client.ehlo()
        client.sendmail("bob@example.org", ["support@example.com"], new_request().as_bytes())
    assert tls_gateway.processor.wait_idle(10)
    assert [r.status for r in _rows(tls_gateway)] == ["done"]


def test_no_starttls_without_a_certificate(gateway: Gateway) -> None:
    with smtplib.SMTP(*gateway.smtp_address, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
