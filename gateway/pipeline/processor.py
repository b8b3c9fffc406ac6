"""The background processor: runs stored inbox items through the pipeline, in batches.

One thread per gateway process. It takes the ids the listeners hand it and, on start and
every ``sweep_seconds``, every ``pending`` item in the database, so an item stored just
before a crash, or by another process that died, is processed by whoever runs next.

Items go through ``process_items`` up to ``ITEMS_PER_BATCH`` at a time, one transaction per batch:
the batch's reads are prefetched and its writes flushed once, which costs a fraction of a
transaction per item. When woken it takes whatever ids are queued at that moment and never
waits for more, so a lone mail is handled as soon as it arrives while a burst, which
queues up behind the batch in progress, becomes the next batch. Within a batch the ids go
in ascending order, which keeps a reply behind its original.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from gateway.pipeline.batch import ITEMS_PER_BATCH, ItemOutcome, by_size, process_items
from gateway.runtime import Runtime
from schema.models import InboxItem

log = logging.getLogger(__name__)

# Markers in the id queue, never item ids: stop, and "sweep the database now".
_STOP = -1
_SWEEP = -2
_T = TypeVar("_T")

# The database cannot be reached (or, on SQLite, is locked past the busy timeout): retrying
# item by item would only fail again, so the items wait for the next sweep.
_UNREACHABLE = (OperationalError, InterfaceError)


def _ends(item_ids: Sequence[int]) -> tuple[int, int]:
    return item_ids[0], item_ids[-1]


class InboxProcessor:
    def __init__(
        self,
        runtime: Runtime,
        *,
        sweep_seconds: float = 30.0,
        on_outcome: Callable[[ItemOutcome], None] | None = None,
        on_batch: Callable[[Sequence[ItemOutcome]], None] | None = None,
    ) -> None:
        """``on_outcome`` is called for each item, ``on_batch`` once per committed batch."""
        self.runtime = runtime
        self.sweep_seconds = sweep_seconds
        self.on_outcome = on_outcome
        self.on_batch = on_batch
        self._ids: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._idle = threading.Event()
        # Ids submitted and not yet through a batch. ``queue.empty()`` cannot tell idle:
        # the queue is already empty while the batch taken from it is still running.
        self._outstanding = 0
        self._count_lock = threading.Lock()
        self._nudged = False  # a _SWEEP is queued
        self._thread = threading.Thread(target=self._loop, name="inbox-processor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, item_id: int) -> None:
        with self._count_lock:
            self._outstanding += 1
            self._idle.clear()
        self._ids.put(item_id)

    def nudge(self) -> None:
        """Process every pending item in the database soon, as if each had been submitted.

        For a feeder that only knows that new items were stored, not which: one nudge or a
        thousand before the processor gets to it cost one sweep.
        """
        with self._count_lock:
            if self._nudged:
                return
            self._nudged = True
        self._ids.put(_SWEEP)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._ids.put(_STOP)
        self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until everything submitted so far is processed (for tests and demo)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        next_sweep = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_sweep:
                self._sweep()
                next_sweep = time.monotonic() + self.sweep_seconds
            taken = self._take(timeout=min(1.0, self.sweep_seconds))
            try:
                # Stopping leaves what is still queued pending, for the next start's sweep.
                if not self._stop.is_set():
                    self._run(taken)
            finally:
                self._done(sum(1 for i in taken if i >= 0))

    def _run(self, taken: list[int]) -> None:
        if _SWEEP in taken:
            with self._count_lock:
                self._nudged = False  # before reading: a nudge from now on sweeps again
            # The sweep takes every pending item, the submitted ones among them.
            self._sweep()
            return
        ids = sorted({i for i in taken if i >= 0})
        if ids:
            self._process_sized(ids)

    def _take(self, timeout: float) -> list[int]:
        """Block for the first id, then take the ones already queued behind it, no more."""
        try:
            taken = [self._ids.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(taken) < ITEMS_PER_BATCH:
            try:
                taken.append(self._ids.get_nowait())
            except queue.Empty:
                break
        return taken

    def _done(self, count: int) -> None:
        with self._count_lock:
            self._outstanding -= count
            if self._outstanding == 0:
                self._idle.set()

    def _sweep(self) -> None:
        """Every pending item, oldest first, ``ITEMS_PER_BATCH`` per transaction."""
        after = 0
        while not self._stop.is_set():
            try:
                with self.runtime.sessions() as session:
                    ids = list(
                        session.scalars(
                            select(InboxItem.id)
                            .where(InboxItem.status == "pending", InboxItem.id > after)
                            .order_by(InboxItem.id)
                            .limit(ITEMS_PER_BATCH)
                        )
                    )
            except Exception:
                log.exception("could not read pending inbox items; will retry")
                return
            # The next page starts after this one, not at the first pending id: items
            # another processor holds locked (skipped here) must not be read forever.
            if not ids or not self._process_sized(ids):
                return  # the database is away: the next sweep starts again at the oldest
            if len(ids) < ITEMS_PER_BATCH:
                return
            after = ids[-1]

    def _process_sized(self, item_ids: Sequence[int]) -> bool:
        """``item_ids`` in transactions of at most ``MAIL_BYTES_PER_BATCH`` of mail each."""
        try:
            with self.runtime.sessions() as session:
                query = select(InboxItem.id, InboxItem.size).where(InboxItem.id.in_(item_ids))
                sizes: dict[int, int] = dict(session.execute(query).all())
        except _UNREACHABLE:
            log.exception("database away: inbox items %s..%s left pending", *_ends(item_ids))
            return False
        return all(self._process(batch) for batch in by_size(item_ids, sizes))

    def _process(self, item_ids: Sequence[int]) -> bool:
        """``item_ids`` in one transaction; False when the database is away.

        One bad mail does not fail the transaction: ``process_items`` parks it as failed
        and keeps the others. What does fail it is the database going away (nothing is
        committed, every item stays pending for the sweep), or, should there be one, a
        fault of the whole batch at commit: then each item gets a transaction of its own,
        so that one such item cannot hold back the items stored after it.
        """
        try:
            self._commit(item_ids)
            return True
        except _UNREACHABLE:
            log.exception("database away: inbox items %s..%s left pending", *_ends(item_ids))
            return False
        except Exception:
            if len(item_ids) == 1:
                log.exception("inbox item %s left pending", item_ids[0])
                return True
            log.exception("batch %s..%s failed; one transaction per item", *_ends(item_ids))
        for item_id in item_ids:
            try:
                self._commit([item_id])
            except _UNREACHABLE:
                log.exception("database away: inbox items from %s left pending", item_id)
                return False
            except Exception:
                log.exception("inbox item %s left pending", item_id)
        return True

    def _commit(self, item_ids: Sequence[int]) -> None:
        with self.runtime.transaction() as session:
            outcomes = process_items(session, self.runtime.settings, item_ids)
        if self.on_outcome is not None:
            for outcome in outcomes:
                self._call(self.on_outcome, outcome)
        if self.on_batch is not None:
            self._call(self.on_batch, outcomes)

    def _call(self, hook: Callable[[_T], None], arg: _T) -> None:
        try:
            hook(arg)
        except Exception:
            # The batch is committed; a failing hook (say, the relay meeting an outage)
            # must not end the thread. The outbox sweep relays what the relay missed.
            log.exception("inbox processor hook %r failed", hook)
