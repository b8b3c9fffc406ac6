"""Everything after the 250: the inbox processor and the delivery of what it causes.

:class:`Processing` runs in the listener's process (threads: tests, ``demo``).
:class:`ProcessingProcess` runs the same in a child process, which is what ``ticketgw
serve`` does: processing a mail costs far more CPU than storing it, and in one process the
processor's thread would hold the GIL while SMTP clients wait for their 250. Either way the
database is the hand-over: the listener commits the raw mail, then passes the item id
along; whatever the hand-over loses, the processor's sweep finds as ``pending``.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue

from gateway.config import Settings
from gateway.inbound.process import Outcome
from gateway.inbound.processor import InboxProcessor
from gateway.runtime import Runtime, open_runtime
from workers.broker import RunningWorkers, setup_broker, start_workers
from workers.middleware import DeliveryOptions
from workers.relay import relay_pending

log = logging.getLogger(__name__)


class Processing:
    """The processor thread, plus delivery workers in the embedded default (no Redis)."""

    def __init__(
        self, runtime: Runtime, *, sweep_seconds: float, delivery: DeliveryOptions | None = None
    ) -> None:
        self.runtime = runtime
        self.broker = setup_broker(runtime.settings, runtime=runtime, options=delivery)
        self.processor = InboxProcessor(
            runtime, sweep_seconds=sweep_seconds, on_outcome=self._relay
        )
        self.workers: RunningWorkers | None = None

    def _relay(self, outcome: Outcome) -> None:
        """Hand the notifications an item caused to the broker at once, not at the sweep."""
        if outcome.status in {"done", "ignored"}:
            relay_pending(self.runtime.sessions, self.broker)

    def start(self) -> None:
        if not self.runtime.settings.redis_url:
            self.workers = start_workers(self.broker)
        self.processor.start()

    def submit(self, item_id: int) -> None:
        self.processor.submit(item_id)

    def stop(self) -> None:
        self.processor.stop()
        if self.workers is not None:
            self.workers.stop()


class ProcessingProcess:
    """:class:`Processing` in a child process, restarted if it dies."""

    def __init__(self, settings: Settings, *, sweep_seconds: float) -> None:
        self.settings = settings
        self.sweep_seconds = sweep_seconds
        self._context = multiprocessing.get_context("spawn")
        self._ids: Queue[int | None] = self._context.Queue()
        self._child: BaseProcess | None = None

    def start(self) -> None:
        self._child = self._context.Process(
            target=_child_main,
            args=(self.settings, self._ids, self.sweep_seconds),
            name="ticketgw-processing",
            daemon=True,
        )
        self._child.start()

    def submit(self, item_id: int) -> None:
        self._ids.put(item_id)

    def ensure_alive(self) -> None:
        """Restart a dead child; the new one's sweep picks up every pending item."""
        if self._child is not None and not self._child.is_alive():
            log.error("processing process exited (code %s); restarting", self._child.exitcode)
            self.start()

    def stop(self, timeout: float = 30.0) -> None:
        if self._child is None:
            return
        self._ids.put(None)
        self._child.join(timeout)
        if self._child.is_alive():
            self._child.terminate()
            self._child.join(5)


def _child_main(settings: Settings, ids: Queue[int | None], sweep_seconds: float) -> None:
    # Ctrl-C reaches the whole process group; the parent decides when the child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = open_runtime(settings)
    processing = Processing(runtime, sweep_seconds=sweep_seconds)
    processing.start()
    parent = multiprocessing.parent_process()
    try:
        while True:
            try:
                item_id = ids.get(timeout=1.0)
            except queue.Empty:
                # A parent killed with SIGKILL never says stop: do not live on as an orphan
                # (the restarted listener starts a processing child of its own).
                if parent is not None and not parent.is_alive():
                    break
                continue
            if item_id is None:
                break
            processing.submit(item_id)
    finally:
        processing.stop()
        runtime.close()
