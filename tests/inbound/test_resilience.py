"""Nothing is lost: the database going away, restarts with pending items, failed steps."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_cli.app import BackgroundGateway
from gateway.config import load_settings
from gateway.inbound import inbox
from gateway.pipeline.batch import process_pending
from gateway.runtime import Runtime, open_runtime
from schema.models import InboxItem, Message, Ticket
from tests.inbound.mails import new_request
from tests.tcp_proxy import TcpProxy, proxied_database

SUPPORT = "support@example.com"
_key = inbox.mail_dedupe_key


@pytest.fixture
def proxied_env(listener_env: dict[str, str]) -> Iterator[tuple[dict[str, str], TcpProxy]]:
    with proxied_database(listener_env) as proxied:
        yield proxied


def test_database_outage_gives_451_and_the_listener_survives(
    proxied_env: tuple[dict[str, str], TcpProxy],
) -> None:
    env, proxy = proxied_env
    runtime = open_runtime(load_settings(env), migrate=True)
    with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
        first, second = new_request(subject="before"), new_request(subject="during")
        with smtplib.SMTP(*gw.smtp_address, timeout=20) as client:
            assert (
                client.sendmail("bob@example.org", ["support@example.com"], first.as_bytes()) == {}
            )
        assert gw.processor.wait_idle(10)
        proxy.cut()
        with smtplib.SMTP(*gw.smtp_address, timeout=20) as client:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("bob@example.org", [SUPPORT], second.as_bytes())
            assert refused.value.smtp_code == 451
        proxy.restore()
        with smtplib.SMTP(*gw.smtp_address, timeout=20) as client:  # the client's retry
            assert client.sendmail("bob@example.org", [SUPPORT], second.as_bytes()) == {}
        assert gw.processor.wait_idle(10)
    with runtime.sessions() as s:
        subjects = sorted(s.scalars(select(Ticket.subject)))
    runtime.close()
    assert subjects == ["before", "during"]


def test_items_stored_before_a_crash_are_processed_on_start(listener_env: dict[str, str]) -> None:
    runtime = open_runtime(load_settings(listener_env), migrate=True)
    raws = [new_request(subject=f"stored {i}").as_bytes() for i in range(3)]
    with runtime.transaction() as s:  # accepted (250 given), then the process died
        for raw in raws:
            inbox.accept(
                s, raw, channel="email", source="smtp", dedupe_key=inbox.mail_dedupe_key(raw)
            )
    with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
        assert gw.processor.wait_idle(10)
    with runtime.sessions() as s:
        statuses = s.scalars(select(InboxItem.status)).all()
        assert statuses == ["done"] * 3
        assert len(s.scalars(select(Message)).all()) == 3
    runtime.close()


def test_a_failed_step_parks_the_item_and_retry_recovers_it(runtime: Runtime) -> None:
    mail = new_request()
    mail.add_attachment(
        b"%PDF-1.4 invoice", maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    raw = mail.as_bytes()
    data_dir: Path = runtime.settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "attachments").write_text("not a directory")  # the disk refuses the file
    with runtime.transaction() as s:
        inbox.accept(s, raw, channel="email", source="smtp", dedupe_key=_key(raw))
    [outcome] = process_pending(runtime.sessions, runtime.settings)
    assert outcome.status == "failed"
    with runtime.sessions() as s:
        item = s.scalars(select(InboxItem)).one()
        assert (item.status, item.failed_step) == ("failed", "store")
        assert "attachments" in (item.reason or "")
        assert s.scalars(select(Ticket)).all() == [], "a failed item leaves no half ticket"
    (data_dir / "attachments").unlink()
    with runtime.transaction() as s:
        inbox.retry_item(s, item.id)
    [outcome] = process_pending(runtime.sessions, runtime.settings)
    assert (outcome.status, outcome.new_ticket) == ("done", True)
    with runtime.sessions() as s:
        message = s.scalars(select(Message)).one()
        assert [a.filename for a in message.attachments] == ["invoice.pdf"]
