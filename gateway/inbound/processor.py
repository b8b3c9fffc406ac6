"""The background processor: runs stored inbox items through the pipeline, in order.

One thread per gateway process. It takes the ids the listeners hand it and, on start and
every ``sweep_seconds``, every ``pending`` item in the database, so an item stored just
before a crash, or by another process that died, is processed by whoever runs next.
Items are handled one at a time in id order, which keeps a reply behind its original.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from gateway.inbound.inbox import pending_ids
from gateway.inbound.process import Outcome, process_item
from gateway.runtime import Runtime

log = logging.getLogger(__name__)


class InboxProcessor:
    def __init__(
        self,
        runtime: Runtime,
        *,
        sweep_seconds: float = 30.0,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.sweep_seconds = sweep_seconds
        self.on_outcome = on_outcome
        self._ids: queue.Queue[int] = queue.Queue()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="inbox-processor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, item_id: int) -> None:
        self._idle.clear()
        self._ids.put(item_id)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._ids.put(-1)
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
            try:
                item_id = self._ids.get(timeout=min(1.0, self.sweep_seconds))
            except queue.Empty:
                self._idle.set()
                continue
            if item_id >= 0:
                self._process(item_id)
            if self._ids.empty():
                self._idle.set()

    def _sweep(self) -> None:
        try:
            with self.runtime.sessions() as session:
                ids = pending_ids(session)
        except Exception:
            log.exception("could not read pending inbox items; will retry")
            return
        for item_id in ids:
            self._process(item_id)

    def _process(self, item_id: int) -> None:
        try:
            with self.runtime.transaction() as session:
                outcome = process_item(session, self.runtime.settings, item_id)
        except Exception:
            # The database went away mid-item: the row is still pending, the sweep retries.
            log.exception("inbox item %s left pending", item_id)
            return
        if self.on_outcome is not None:
            self.on_outcome(outcome)
