"""The SLA scheduler: delayed messages at each ticket's next moment, and a safety scan.

The database says when each ticket must be looked at (``tickets.sla_next_check_at``,
planned by ``gateway.sla.scan``); the broker only wakes us at the right time:

- the ``sla_check`` actor checks the tickets it names (``gateway.sla.scan.scan`` with
  their ids), relays the outbox rows that raised, and books delayed messages for their
  next moments;
- :class:`SlaScanLoop` runs the safety scan every ``sla_scan_every`` seconds (30 by
  default): it checks every ticket whose moment has come, which catches whatever a
  delayed message did not (the broker lost it, a worker was down, a ticket was just
  opened), and books delayed messages for the moments of the next two minutes (two scan
  periods, when they are longer: :func:`horizon`).

Only moments within the horizon get a message: Dramatiq workers hold delayed messages in
memory until they are due, so a message per open ticket, days ahead, would not do. Each
``(ticket, moment)`` is booked once (a Redis ``SET NX`` mark, or a dict for the
in-process broker); a copy that slips through costs one indexed query, since a level is
raised at most once whoever looks. Several scans may run at once (one per worker
process): the claim's row locks share the work.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select

from gateway.outbox.relay import relay_pending
from gateway.sla.scan import ScanReport, scan
from schema.models import Ticket
from workers.enqueue import to_broker
from workers.middleware import delivery_context

log = logging.getLogger(__name__)
ACTOR = "sla_check"
QUEUE = "sla"
HORIZON = timedelta(minutes=2)  # at least; two scan periods when the scans are further apart
_BOOKED_LOCK = threading.Lock()


def declare_actor(broker: dramatiq.Broker) -> None:
    """``sla_check(ticket_ids)``: check those tickets now, then book their next moments."""

    def run(ticket_ids: list[int]) -> None:
        check_now(broker, delivery_context(broker).options.clock(), ticket_ids)

    dramatiq.actor(
        broker=broker, actor_name=ACTOR, queue_name=QUEUE, max_retries=3, min_backoff=1000
    )(run)


def check_now(
    broker: dramatiq.Broker, now: datetime, ticket_ids: list[int] | None = None
) -> ScanReport:
    """One scan at ``now`` (every due ticket, or only ``ticket_ids``), its rows relayed."""
    runtime = delivery_context(broker).runtime
    report = scan(runtime, now, ticket_ids=ticket_ids)
    if report.raised:
        relay_pending(runtime.sessions, to_broker(broker))
    book(broker, now, report.planned)
    return report


def safety_scan(broker: dramatiq.Broker, now: datetime) -> ScanReport:
    """Check every due ticket, then book the moments of the coming :func:`horizon`."""
    report = check_now(broker, now)
    with delivery_context(broker).runtime.sessions() as session:
        upcoming = session.execute(
            select(Ticket.id, Ticket.sla_next_check_at).where(
                Ticket.sla_next_check_at > now,
                Ticket.sla_next_check_at <= now + horizon(broker),
            )
        ).all()
    book(broker, now, {ticket_id: at for ticket_id, at in upcoming if at is not None})
    return report


def book(broker: dramatiq.Broker, now: datetime, planned: dict[int, datetime]) -> int:
    """A delayed ``sla_check`` per moment within the horizon not booked yet; how many."""
    soon = {t: at for t, at in planned.items() if at <= now + horizon(broker)}
    fresh = _first_bookings(broker, soon)
    by_moment: dict[datetime, list[int]] = defaultdict(list)
    for ticket_id in fresh:
        by_moment[soon[ticket_id]].append(ticket_id)
    actor = broker.get_actor(ACTOR)
    for at, ids in by_moment.items():
        # Rounded up: a message that arrives a little early finds nothing due yet.
        delay = max(0, math.ceil((at - now).total_seconds() * 1000))
        actor.send_with_options(args=(sorted(ids),), delay=delay or None)
    return len(fresh)


def horizon(broker: dramatiq.Broker) -> timedelta:
    """How far ahead checks are booked: every moment is booked by at least one scan."""
    every = timedelta(seconds=delivery_context(broker).options.sla_scan_every)
    return max(HORIZON, 2 * every)


def _first_bookings(broker: dramatiq.Broker, soon: dict[int, datetime]) -> list[int]:
    ttl = horizon(broker) * 2
    keys = {t: f"sla-booked:{t}:{int(at.timestamp())}" for t, at in soon.items()}
    if isinstance(broker, RedisBroker):
        pipe = broker.client.pipeline(transaction=False)
        for key in keys.values():
            pipe.set(f"{broker.namespace}:{key}", 1, nx=True, px=int(ttl.total_seconds() * 1000))
        return [t for t, ok in zip(keys, pipe.execute(), strict=True) if ok]
    marks = delivery_context(broker).enqueued
    now = time.monotonic()
    with _BOOKED_LOCK:
        fresh = [t for t, key in keys.items() if marks.get(key, 0) < now]
        marks.update({keys[t]: now + ttl.total_seconds() for t in fresh})
    return fresh


class SlaScanLoop:
    """Runs :func:`safety_scan` every ``every`` seconds in a daemon thread, at the time
    ``DeliveryOptions.clock`` gives (tests pass a clock of their own)."""

    def __init__(self, broker: dramatiq.Broker, every: float) -> None:
        self.broker, self.every = broker, every
        self.clock = delivery_context(broker).options.clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sla-scan", daemon=True)

    def start(self) -> SlaScanLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = safety_scan(self.broker, self.clock())
                if report.raised:
                    log.info("SLA scan raised %d escalations", len(report.raised))
            except Exception:  # keep scanning: the next period may find the database back
                log.exception("SLA scan failed")
            self._stop.wait(self.every)
