"""Deliver chosen outbox rows in this process, now: ``outbox retry`` without Redis.

With Redis, ``outbox retry`` enqueues and the ``worker`` processes deliver at once. Without
it, the workers run inside ``ticketgw serve`` on an in-process broker that no other process
can reach, and would only find the rows at their next sweep (30 s). So the command sends
them itself, through the same claim, transports and recording as a worker: a row the
running gateway claims first is simply not claimed here, and a row that fails temporarily
goes back to ``pending`` for the gateway's sweep.

Only channels whose provider is configured in this process are sent; the rest stay
``pending`` for the workers rather than failing for a setting this shell may lack.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select

from gateway.outbox.relay import ROWS_PER_MESSAGE
from gateway.runtime import Runtime
from schema.models import OutboxItem
from workers.broker import ACTORS, setup_broker
from workers.deliver import deliver_batch
from workers.enqueue import ACTOR_FOR_CHANNEL
from workers.middleware import DeliveryContext, delivery_context
from workers.transports.base import NotConfigured

SENDERS = {name: sender for name, _queue, sender in ACTORS}


def deliver_now(runtime: Runtime, row_ids: Sequence[int]) -> Counter[str]:
    """Claim, send and record ``row_ids`` here; how many rows ended in each status."""
    broker = setup_broker(replace(runtime.settings, redis_url=None), runtime=runtime)
    ctx = delivery_context(broker)
    totals: Counter[str] = Counter()
    try:
        for channel, ids in _by_channel(runtime, row_ids).items():
            if not _configured(ctx, channel):
                continue
            sender = SENDERS[ACTOR_FOR_CHANNEL[channel]]
            for start in range(0, len(ids), ROWS_PER_MESSAGE):
                totals += deliver_batch(broker, ctx, ids[start : start + ROWS_PER_MESSAGE], sender)
    finally:
        ctx.close()
        broker.close()
    return totals


def _by_channel(runtime: Runtime, row_ids: Sequence[int]) -> dict[str, list[int]]:
    channels: dict[str, list[int]] = defaultdict(list)
    with runtime.sessions() as session:
        for start in range(0, len(row_ids), 1000):
            chunk = row_ids[start : start + 1000]
            query = select(OutboxItem.id, OutboxItem.channel).where(OutboxItem.id.in_(chunk))
            for row_id, channel in session.execute(query.order_by(OutboxItem.id)):
                channels[channel].append(row_id)
    return channels


def _configured(ctx: DeliveryContext, channel: str) -> bool:
    try:
        ctx.smtp() if channel == "email" else ctx.sms()
    except NotConfigured:
        return False
    return True
