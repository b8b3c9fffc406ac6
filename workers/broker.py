"""The Dramatiq broker from settings, with the delivery actors bound to it.

``setup_broker(settings)`` is the one way to get a broker: a ``RedisBroker`` (namespace
``ticketgw``) when ``TICKETGW_REDIS_URL`` is set, otherwise a ``StubBroker`` that the embedded
default drains with worker threads in the same process (:func:`start_workers`).

Why actors are declared lazily, per broker, instead of with ``@dramatiq.actor`` at import:
a module-level decorator binds to dramatiq's global broker at import time, so the broker
would have to be chosen before any of our modules is imported, and one process could never
hold two brokers (the tests run two workers side by side). Here the actor bodies are plain
functions (``send_email``, ``send_sms``) and :func:`_declare_actors` binds them to whichever
broker ``setup_broker`` built; callers enqueue through ``workers.enqueue``, never through
module-level actor objects. The global broker is left alone.

A message carries a batch of outbox row ids (``workers.enqueue``); ``workers.deliver`` claims,
sends and records them. Dramatiq's own retries are transport only (a crashed message is
tried again a few times); the outbox row decides everything else: the claim makes a repeat
harmless, and a row that no message reaches is re-enqueued by the sweep.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from gateway.config import Settings
from gateway.outbox.relay import sweep_stuck
from gateway.runtime import Runtime
from schema.models.base import utcnow
from workers import fetch_media, sla_scheduler
from workers.deliver import Sender, deliver_batch
from workers.enqueue import to_broker
from workers.fetch_media import fetch_due
from workers.middleware import DeliveryContext, DeliveryOptions, delivery_context
from workers.send_email import send_email
from workers.send_sms import send_sms
from workers.sla_scheduler import SlaScanLoop

log = logging.getLogger(__name__)
NAMESPACE = "ticketgw"
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
    _declare_media_actor(broker)
    sla_scheduler.declare_actor(broker)
    return broker


def _declare_media_actor(broker: dramatiq.Broker) -> None:
    """``fetch_media``: fetches the MMS media that are due, then books its own retry."""

    def run() -> None:
        ctx = delivery_context(broker)
        next_due = fetch_due(ctx.runtime.sessions, ctx.settings)
        if next_due is not None:
            delay = max(0.0, (next_due - utcnow()).total_seconds())
            broker.get_actor(fetch_media.ACTOR).send_with_options(delay=int(delay * 1000) + 1)

    dramatiq.actor(
        broker=broker,
        actor_name=fetch_media.ACTOR,
        queue_name=fetch_media.QUEUE,
        max_retries=3,
        min_backoff=1000,
        time_limit=int(fetch_media.TIMEOUT * fetch_media.MEDIA_PER_CLAIM * 4 * 1000),
    )(run)


def _declare_actor(broker: dramatiq.Broker, name: str, queue: str, sender: Sender) -> None:
    def run(row_ids: int | list[int]) -> None:  # returns nothing: dramatiq warns about results
        # A bare id is a message from before batches (or one sent by hand): a batch of one.
        ids = [row_ids] if isinstance(row_ids, int) else row_ids
        deliver_batch(broker, delivery_context(broker), ids, sender)

    ctx = delivery_context(broker)
    dramatiq.actor(
        broker=broker,
        actor_name=name,
        queue_name=queue,
        max_retries=3,
        min_backoff=1000,
        # A batch starts no send after `send_timeout`; the last one may take a few more.
        time_limit=int(ctx.options.send_timeout * 5 * 1000),
    )(run)


class SweepLoop:
    """Runs :func:`sweep_stuck` every ``sweep_every`` seconds in a daemon thread.

    With Redis, a ``SET NX PX`` lease lets only one of several worker processes sweep in
    each period; the in-process broker has one process, so it always sweeps.
    """

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-sweep", daemon=True)
        self._token = uuid.uuid4().hex

    def start(self) -> SweepLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _leased(self, period: float) -> bool:
        if not isinstance(self.broker, RedisBroker):
            return True
        key = f"{self.broker.namespace}:sweep-lease"
        return bool(self.broker.client.set(key, self._token, nx=True, px=int(period * 1000)))

    def _run(self) -> None:
        ctx = delivery_context(self.broker)
        period = ctx.options.sweep_every
        while not self._stop.is_set():
            try:
                if self._leased(period):
                    sweep_stuck(
                        ctx.runtime.sessions,
                        to_broker(self.broker),
                        lease=ctx.options.lease,
                        max_attempts=ctx.settings.max_attempts,
                    )
            except Exception:  # keep sweeping: the next period may find the database back
                log.exception("outbox sweep failed")
            self._stop.wait(period)


@dataclass(slots=True)
class RunningWorkers:
    """A started ``dramatiq.Worker``, the sweep loop and the SLA scheduler, if it runs;
    :meth:`stop` ends them."""

    worker: dramatiq.Worker
    sweep: SweepLoop
    sla: SlaScanLoop | None = None

    def stop(self) -> None:
        if self.sla is not None:
            self.sla.stop()
        self.sweep.stop()
        self.worker.stop()


def start_workers(
    broker: dramatiq.Broker, *, threads: int = 4, sweep: bool = True, scheduler: bool = False
) -> RunningWorkers:
    """Worker threads (and the sweep loop) in this process, for any broker.

    ``scheduler`` also runs the SLA safety scan (``workers.sla_scheduler``) every
    ``DeliveryOptions.sla_scan_every`` seconds.
    """
    # Middleware such as TimeLimit starts on this signal; dramatiq's CLI sends it, we must.
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    loop = SweepLoop(broker)
    if sweep:
        loop.start()
    every = delivery_context(broker).options.sla_scan_every
    sla = SlaScanLoop(broker, every).start() if scheduler else None
    return RunningWorkers(worker, loop, sla)
