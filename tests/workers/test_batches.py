"""Batches as the unit of work: one message, one claim, one connection, each row's own outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from aiosmtpd.controller import Controller
from dramatiq import Message

from gateway.backoff import Backoff
from gateway.config import load_settings
from gateway.outbox import claim
from gateway.outbox.relay import ROWS_PER_MESSAGE, batch_size, relay_pending
from gateway.runtime import Runtime
from schema.models.base import utcnow
from tests.waiting import wait_until
from tests.workers.conftest import FAST, AddRows, Workers, row, statuses
from tests.workers.sink import Recorder
from workers.broker import setup_broker
from workers.enqueue import to_broker

Sink = tuple[Recorder, Controller]
# Retries an hour away: the test sees the row back in `pending`, not its next attempt.
SLOW_RETRY = replace(FAST, backoff=Backoff(base=3600, cap=3600))


def _send_batch(broker: object, ids: list[int]) -> None:
    broker.get_actor("send_email").send(ids)  # type: ignore[attr-defined]


def test_each_row_of_a_batch_gets_its_own_outcome(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    recorder.refuse_rcpt = {
        "gone@example.org": "550 5.1.1 no such mailbox",
        "busy@example.org": "450 4.2.1 mailbox busy",
    }
    [first] = add_rows(1)
    [gone] = add_rows(1, recipient="gone@example.org")
    [busy] = add_rows(1, recipient="busy@example.org")
    [last] = add_rows(1)
    _send_batch(workers(threads=1, options=SLOW_RETRY), [first, gone, busy, last])
    wait_until(lambda: statuses(runtime) == {"sent": 2, "failed": 1, "pending": 1}, what="4 done")

    assert {row(runtime, i).status for i in (first, last)} == {"sent"}
    assert all(row(runtime, i).provider_id for i in (first, last))
    refused = row(runtime, gone)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "550 5.1.1 no such mailbox" in (refused.last_error or "")
    deferred = row(runtime, busy)
    assert (deferred.status, deferred.attempts) == ("pending", 1)
    assert "450 4.2.1 mailbox busy" in (deferred.last_error or "")
    assert deferred.next_attempt_at is not None
    assert deferred.sent_at is None
    # One connection carried the batch: a refused recipient did not cost the rows after it.
    assert [rcpts for _, rcpts in recorder.envelopes] == [["carol@example.org"]] * 2


def test_a_batch_sends_only_the_rows_it_claimed(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    ids = add_rows(6)
    with runtime.transaction() as session:  # another worker took two of them first
        taken = [r.id for r in claim.claim_batch(session, ids[1:3])]
    [sentinel] = add_rows(1)
    broker = workers(threads=1)
    _send_batch(broker, ids)
    _send_batch(broker, [sentinel])  # one thread: done after the batch
    wait_until(lambda: row(runtime, sentinel).status == "sent", what="sentinel sent")

    assert statuses(runtime) == {"sent": 5, "sending": 2}
    assert [row(runtime, i).status for i in taken] == ["sending", "sending"]
    assert [row(runtime, i).attempts for i in taken] == [1, 1]
    sent_ids = {row(runtime, i).email_message_id for i in ids if i not in taken}
    assert set(recorder.message_ids()) == {f"<{m}>" for m in sent_ids} | {
        f"<{row(runtime, sentinel).email_message_id}>"
    }


def test_an_unreachable_relay_stops_the_batch_and_releases_the_rest(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    sink[0].hang = True
    # The rows fall due only after the workers' first sweep, and the sweep does not come
    # back during the test: otherwise it relays them too, one row a message, and a row
    # the batch would release gets tried on its own.
    due = utcnow() + timedelta(seconds=2)
    ids = add_rows(3, next_attempt_at=due)
    options = replace(SLOW_RETRY, send_timeout=0.3, sweep_every=3600.0)
    broker = workers(threads=1, options=options)
    wait_until(lambda: utcnow() >= due, what="rows due")
    _send_batch(broker, ids)
    # Every row starts pending: wait for the reasons that say the batch was tried.
    wait_until(lambda: all(row(runtime, i).last_error for i in ids), what="3 reasons")
    assert statuses(runtime) == {"pending": 3}

    tried, *rest = (row(runtime, i) for i in ids)
    assert tried.attempts == 1
    assert "timed out" in (tried.last_error or "")
    for released in rest:
        assert released.attempts == 0  # never tried: the attempt is given back
        assert (released.last_error or "").startswith("not tried: ")
        assert released.next_attempt_at == tried.next_attempt_at  # the relay is down for all


def test_the_relay_spreads_rows_over_batches_of_at_most_fifty(
    runtime: Runtime, add_rows: AddRows, worker_env: dict[str, str]
) -> None:
    settings = replace(load_settings(worker_env), redis_url=None)  # a broker nobody drains
    broker = setup_broker(settings, options=FAST, runtime=runtime)
    ids = add_rows(1200)
    assert relay_pending(runtime.sessions, to_broker(broker)) == 1200
    assert relay_pending(runtime.sessions, to_broker(broker)) == 0  # enqueued once per row version
    batches = [m.args[0] for m in _messages(broker)]
    assert sorted(i for batch in batches for i in batch) == ids
    assert max(len(batch) for batch in batches) == ROWS_PER_MESSAGE
    assert [batch_size(n) for n in (1, 16, 17, 40, 800, 5000)] == [1, 1, 2, 3, 50, 50]
    broker.close()


def _messages(broker: object) -> list[Message[object]]:
    queue = broker.queues["outbox_email"]  # type: ignore[attr-defined]
    return [Message.decode(data) for data in list(queue.queue)]
