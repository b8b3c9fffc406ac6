"""The Dramatiq broker from settings, with the delivery actors bound to it.

``setup_broker(settings)`` is the one way to get a broker: a ``RedisBroker`` (namespace
``ticketgw``) when ``TICKETGW_REDIS_URL`` is set, otherwise a ``StubBroker`` that the embedded
default drains with worker threads in the same process (:func:`start_workers`).

Why actors are declared lazily, per broker, instead of with ``@dramatiq.actor`` at import:
a module-level decorator binds to dramatiq's global broker at import time, so the broker
would have to be chosen before any of our modules is imported, and one process could never
hold two brokers (the tests run two workers side by side). Here the actor bodies are plain
functions (``send_email``, ``send_sms``) and :func:`_declare_actors` binds them to whichever
broker ``setup_broker`` built; callers enqueue through ``workers.relay``, never through
module-level actor objects. The global broker is left alone.

Dramatiq's own retries are transport only (a crashed message is tried again a few times);
the outbox row decides everything else: the claim makes a repeat harmless, and a row that
no message reaches is re-enqueued by the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from gateway.config import Settings
from gateway.runtime import Runtime
from schema.models import OutboxItem
from schema.models.base import utcnow
from workers.claim import claim, mark_failed, mark_retry, mark_sent
from workers.middleware import DeliveryContext, DeliveryOptions, delivery_context
from workers.relay import SweepLoop, enqueue_once, row_version
from workers.send_email import send_email
from workers.send_sms import send_sms
from workers.transports.base import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)
NAMESPACE = "ticketgw"
Sender = Callable[[DeliveryContext, OutboxItem], str]
ACTORS: tuple[tuple[str, str, Sender], ...] = (
    # (actor name, queue, what delivers a claimed row); one queue per channel so a slow
    # SMS provider never holds up mail.
    ("send_email", "outbox_email", send_email),
    ("send_sms", "outbox_sms", send_sms),
)


def setup_broker(
    settings: Settings,
    *,
    options: DeliveryOptions | None = None,
    runtime: Runtime | None = None,
    namespace: str = NAMESPACE,
) -> dramatiq.Broker:
    """The broker for ``settings`` with its delivery middleware and actors declared.

    ``runtime`` lends an open database runtime (``serve``, tests); without one each worker
    process opens its own on first use.
    """
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(url=settings.redis_url, namespace=namespace)
    else:
        broker = StubBroker()
    broker.add_middleware(DeliveryContext(settings, options or DeliveryOptions(), runtime))
    for name, queue, sender in ACTORS:
        _declare_actor(broker, name, queue, sender)
    return broker


def _declare_actor(broker: dramatiq.Broker, name: str, queue: str, sender: Sender) -> None:
    def run(row_id: int) -> None:  # returns nothing: dramatiq warns about unused results
        deliver(broker, row_id, sender)

    ctx = delivery_context(broker)
    dramatiq.actor(
        run,
        broker=broker,
        actor_name=name,
        queue_name=queue,
        max_retries=3,
        min_backoff=1000,
        time_limit=int(ctx.options.send_timeout * 4 * 1000),
    )


def deliver(broker: dramatiq.Broker, row_id: int, sender: Sender) -> str:
    """Claim, send and record one outbox row; returns the row's new status or ``skipped``."""
    ctx = delivery_context(broker)
    with ctx.runtime.transaction() as session:
        row = claim(session, row_id)
    if row is None:
        return "skipped"  # sent, taken by another worker, or not yet due
    try:
        provider_id = sender(ctx, row)
    except PermanentFailure as exc:
        with ctx.runtime.transaction() as session:
            mark_failed(session, row.id, str(exc))
        log.warning("outbox %d failed: %s", row.id, exc)
        return "failed"
    except Exception as exc:
        # Temporary failures, and surprises: both get the backoff road, ending in `dead`.
        if not isinstance(exc, TemporaryFailure):
            log.exception("outbox %d: unexpected error", row.id)
        reason = str(exc) if isinstance(exc, TemporaryFailure) else f"internal error: {exc!r}"
        with ctx.runtime.transaction() as session:
            due = mark_retry(
                session,
                row,
                reason,
                max_attempts=ctx.settings.max_attempts,
                backoff=ctx.options.backoff,
            )
        if due is None:
            log.warning("outbox %d dead: %s", row.id, reason)
            return "dead"
        delay = max(0.0, (due - utcnow()).total_seconds())
        enqueue_once(broker, [(row.id, row.channel, row_version(row.attempts, due))], delay=delay)
        return "pending"
    with ctx.runtime.transaction() as session:
        mark_sent(session, row.id, provider_id)
    return "sent"


@dataclass(slots=True)
class RunningWorkers:
    """A started ``dramatiq.Worker`` and the sweep loop; :meth:`stop` ends both."""

    worker: dramatiq.Worker
    sweep: SweepLoop

    def stop(self) -> None:
        self.sweep.stop()
        self.worker.stop()


def start_workers(
    broker: dramatiq.Broker, *, threads: int = 4, sweep: bool = True
) -> RunningWorkers:
    """Worker threads (and the sweep loop) in this process, for any broker."""
    # Middleware such as TimeLimit starts on this signal; dramatiq's CLI sends it, we must.
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    loop = SweepLoop(broker)
    if sweep:
        loop.start()
    return RunningWorkers(worker, loop)
