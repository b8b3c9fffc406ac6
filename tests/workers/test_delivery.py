"""Delivery of outbox rows through real Redis into a real SMTP sink."""

from __future__ import annotations

from aiosmtpd.controller import Controller

from gateway.outbox.relay import relay_pending
from gateway.runtime import Runtime
from tests.waiting import wait_until
from tests.workers.conftest import AddRows, Workers, row
from tests.workers.sink import Recorder
from workers.enqueue import to_broker


def test_pending_rows_are_delivered_with_headers_and_alternatives(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: tuple[Recorder, Controller]
) -> None:
    recorder, _ = sink
    ids = add_rows(3)
    broker = workers()
    # The workers' first sweep may have enqueued them already: then this relay adds nothing
    # (counts are tested in test_batches.py, on a broker without workers).
    relay_pending(runtime.sessions, to_broker(broker))
    wait_until(lambda: len(recorder.messages) == 3, what="3 mails at the sink")
    wait_until(lambda: all(row(runtime, i).status == "sent" for i in ids), what="rows sent")
    # Each row went out once, and nothing is left to relay.
    sent_ids = sorted(m["Message-ID"] for m in recorder.messages)
    assert sent_ids == sorted(f"<{row(runtime, i).email_message_id}>" for i in ids)
    assert relay_pending(runtime.sessions, to_broker(broker)) == 0

    first = row(runtime, ids[0])
    mail = next(m for m in recorder.messages if m["Message-ID"] == f"<{first.email_message_id}>")
    assert mail["From"] == "Support <support@example.com>"
    assert mail["To"] == "carol@example.org"
    assert mail["Reply-To"] == f"reply+{first.idempotency_key}@example.com"
    assert mail["In-Reply-To"] == "<c1@example.org>"
    assert mail["References"] == "<c0@example.org> <c1@example.org>"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Loop"] == "ticket-gateway"
    assert mail["Date"]
    assert "T-000123" in mail["Subject"]
    assert mail.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in mail.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert "T-000123" in mail.get_body(("plain",)).get_content()
    assert recorder.envelopes[0] == ("support@example.com", ["carol@example.org"])
    assert first.provider_id
    assert "queued" in first.provider_id
    assert first.sent_at is not None
    assert first.attempts == 1
