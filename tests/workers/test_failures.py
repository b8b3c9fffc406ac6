"""Failure roads: refused, deferred, timed out, unrenderable, unconfigured; sent stays sent."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from gateway.backoff import Backoff
from gateway.outbox.relay import relay_pending
from gateway.runtime import Runtime
from tests.waiting import wait_until
from tests.workers.conftest import FAST, AddRows, Workers, row
from tests.workers.sink import Recorder
from workers.enqueue import to_broker
from workers.middleware import DeliveryOptions

Sink = tuple[Recorder, Controller]


def _status_becomes(runtime: Runtime, row_id: int, status: str, timeout: float = 20) -> None:
    wait_until(lambda: row(runtime, row_id).status == status, timeout, f"row {status}")


def test_a_sent_row_is_never_sent_again(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    [first] = add_rows(1)
    broker = workers(threads=1)
    relay_pending(runtime.sessions, to_broker(broker))
    _status_becomes(runtime, first, "sent")
    send = broker.get_actor("send_email")
    for _ in range(3):  # the broker redelivers, or a stale relay enqueues it again
        send.send(first)
    [sentinel] = add_rows(1)
    relay_pending(runtime.sessions, to_broker(broker))  # one worker thread: runs after the copies
    _status_becomes(runtime, sentinel, "sent")
    assert len(recorder.messages) == 2
    assert row(runtime, first).attempts == 1


def test_a_refusing_relay_fails_the_row_at_once(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    recorder.reply = "550 5.1.1 no such mailbox"
    [row_id] = add_rows(1)
    relay_pending(runtime.sessions, to_broker(workers()))
    _status_becomes(runtime, row_id, "failed")
    failed = row(runtime, row_id)
    assert failed.attempts == 1
    assert "550 5.1.1 no such mailbox" in (failed.last_error or "")
    assert failed.sent_at is None


def test_a_deferring_relay_retries_with_backoff_then_dead(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    recorder.reply = "451 4.3.0 try again later"
    [row_id] = add_rows(1)
    relay_pending(runtime.sessions, to_broker(workers(TICKETGW_MAX_ATTEMPTS="3")))
    _status_becomes(runtime, row_id, "dead")
    dead = row(runtime, row_id)
    assert dead.attempts == 3
    assert "gave up after 3 attempts" in (dead.last_error or "")
    assert "451 4.3.0" in (dead.last_error or "")
    assert recorder.messages == []


def test_a_relay_that_times_out_is_retried_then_dead(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    sink[0].hang = True
    [row_id] = add_rows(1)
    options = DeliveryOptions(backoff=FAST.backoff, sweep_every=0.2, send_timeout=0.3)
    relay_pending(runtime.sessions, to_broker(workers(options=options, TICKETGW_MAX_ATTEMPTS="2")))
    _status_becomes(runtime, row_id, "dead")
    assert "timed out" in (row(runtime, row_id).last_error or "")


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(base=10, cap=3600, jitter=0.2)
    assert 8 <= backoff.delay(1) <= 12
    assert 16 <= backoff.delay(2) <= 24
    assert 0.8 * 3600 <= backoff.delay(30) <= 1.2 * 3600
    assert len({backoff.delay(3) for _ in range(20)}) > 1


@pytest.mark.parametrize(
    ("fields", "settings", "reason"),
    [
        ({"template": "no_such_template"}, {}, "no_such_template"),
        ({}, {"TICKETGW_SMTP_RELAY": ""}, "no SMTP relay configured: set TICKETGW_SMTP_RELAY"),
        ({"channel": "sms", "template": "sms_ack"}, {}, "SMS not configured: set TICKETGW_TWILIO"),
    ],
    ids=["unknown-template", "no-relay", "sms-unconfigured"],
)
def test_rows_that_cannot_be_sent_fail_visibly(
    runtime: Runtime,
    add_rows: AddRows,
    workers: Workers,
    fields: dict[str, str],
    settings: dict[str, str],
    reason: str,
) -> None:
    [row_id] = add_rows(1, **fields)
    relay_pending(runtime.sessions, to_broker(workers(**settings)))
    _status_becomes(runtime, row_id, "failed")
    assert reason in (row(runtime, row_id).last_error or "")


def test_the_in_process_broker_delivers_too(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    ids = add_rows(5)
    relay_pending(runtime.sessions, to_broker(workers(redis=False)))
    wait_until(lambda: all(row(runtime, i).status == "sent" for i in ids), what="5 rows sent")
    assert len(sink[0].messages) == 5
