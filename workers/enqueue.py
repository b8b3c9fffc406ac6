"""Outbox rows onto the broker: one message per batch of a channel, once per row version.

``gateway.outbox.relay`` picks the rows; :func:`to_broker` is how they reach the actors.
A mark per row version (a Redis ``SET NX PX`` key, or a dict for the in-process broker)
lasts the lease, so relaying often does not flood the queue with copies.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence

from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker

from gateway.outbox.relay import ROWS_PER_QUERY, RowVersion, SendRows, batch_size
from workers.middleware import delivery_context

ACTOR_FOR_CHANNEL = {"email": "send_email", "sms": "send_sms"}
_MARKS_LOCK = threading.Lock()


def enqueue_once(broker: Broker, rows: Sequence[RowVersion], delay: float = 0) -> int:
    """Enqueue ``(id, channel, version)`` rows not already enqueued within the lease.

    Fresh rows go out in batches, one message per ``batch_size`` rows of a channel, in
    id order. Returns how many rows were enqueued.
    """
    ctx = delivery_context(broker)
    ttl = delay + ctx.options.lease
    keys = [f"enqueued:{row_id}:{version}" for row_id, _, version in rows]
    if isinstance(broker, RedisBroker):
        pipe = broker.client.pipeline(transaction=False)
        for key in keys:
            pipe.set(f"{broker.namespace}:{key}", 1, nx=True, px=max(1, int(ttl * 1000)))
        fresh = [bool(ok) for ok in pipe.execute()]
    else:
        now = time.monotonic()
        with _MARKS_LOCK:
            marks = ctx.enqueued
            if len(marks) > 10 * ROWS_PER_QUERY:
                for k in [k for k, until in marks.items() if until < now]:
                    del marks[k]
            fresh = [marks.get(k, 0) < now for k in keys]
            marks.update({k: now + ttl for k, ok in zip(keys, fresh, strict=True) if ok})
    by_channel: dict[str, list[int]] = defaultdict(list)
    for (row_id, channel, _), ok in zip(rows, fresh, strict=True):
        if ok:
            by_channel[channel].append(row_id)
    for channel, ids in by_channel.items():
        actor = broker.get_actor(ACTOR_FOR_CHANNEL[channel])
        size = batch_size(len(ids))
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            actor.send_with_options(args=(chunk,), delay=int(delay * 1000) or None)
    return sum(fresh)


def to_broker(broker: Broker) -> SendRows:
    """The relay's way to ``broker``: ``relay_pending(sessions, to_broker(broker))``."""
    return lambda rows: enqueue_once(broker, rows)
