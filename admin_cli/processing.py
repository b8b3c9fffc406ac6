"""Everything after the 250: the inbox processor and the delivery of what it causes.

:class:`Processing` runs in the listener's process (threads: tests, ``demo``).
:class:`ProcessingProcess` runs the same in a child process, which is what ``ticketgw
serve`` does: processing a mail costs far more CPU than storing it, and in one process the
processor's thread would hold the GIL while SMTP clients wait for their 250. Either way the
database is the hand-over: the listener commits the raw mail, then passes the item id
along (in threads) or wakes the child (which then reads what is pending); whatever the
hand-over loses, the processor's sweep finds as ``pending``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from gateway.config import Settings
from gateway.memory import return_large_blocks
from gateway.outbox.relay import relay_pending
from gateway.pipeline.batch import ItemOutcome
from gateway.pipeline.processor import InboxProcessor
from gateway.runtime import Runtime, open_runtime
from workers.broker import RunningWorkers, setup_broker, start_workers
from workers.enqueue import to_broker
from workers.fetch_media import request_fetch
from workers.middleware import DeliveryOptions

log = logging.getLogger(__name__)


class Processing:
    """The processor thread, plus delivery workers in the embedded default (no Redis)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        sweep_seconds: float,
        delivery: DeliveryOptions | None = None,
        scheduler: bool = False,
    ) -> None:
        self.runtime = runtime
        self.scheduler = scheduler  # the SLA scheduler, with the embedded workers
        self.broker = setup_broker(runtime.settings, runtime=runtime, options=delivery)
        self.processor = InboxProcessor(runtime, sweep_seconds=sweep_seconds, on_batch=self._relay)
        self.workers: RunningWorkers | None = None

    def _relay(self, outcomes: Sequence[ItemOutcome]) -> None:
        """Hand the notifications a batch caused to the broker at once, not at the sweep."""
        if any(outcome.status in {"done", "ignored"} for outcome in outcomes):
            relay_pending(self.runtime.sessions, to_broker(self.broker))
        if any(outcome.status == "done" for outcome in outcomes):
            request_fetch(self.runtime.sessions, self.broker)  # MMS media waiting

    def start(self) -> None:
        if not self.runtime.settings.redis_url:
            self.workers = start_workers(self.broker, scheduler=self.scheduler)
        self.processor.start()
        request_fetch(self.runtime.sessions, self.broker)  # left over from the last run

    def submit(self, item_id: int) -> None:
        self.processor.submit(item_id)

    def nudge(self) -> None:
        self.processor.nudge()

    def stop(self) -> None:
        self.processor.stop()
        if self.workers is not None:
            self.workers.stop()


class ProcessingProcess:
    """:class:`Processing` in a child process, restarted if it dies.

    The child is not sent item ids: it is woken, and reads every pending item from the
    database, ``ITEMS_PER_BATCH`` per transaction. A burst of accepted mail is thus one wake-up and
    one batch, where ids handed over one by one would each cost the child a hand-over
    while its processor thread holds the GIL. The wake-up is a byte on a pipe: writing
    one never blocks the listener (a full pipe already means "wake up"), and a child
    killed at any moment leaves no lock behind for the listener to wait on.
    """

    def __init__(self, settings: Settings, *, sweep_seconds: float) -> None:
        self.settings = settings
        self.sweep_seconds = sweep_seconds
        self._context = multiprocessing.get_context("spawn")
        self._wake_conn: Connection | None = None
        self._stop_conn: Connection | None = None
        # Held while writing to the wake-up pipe and while replacing it, so that no write
        # goes to a descriptor already closed (and perhaps reused for something else).
        self._wake_lock = threading.Lock()
        self._child: BaseProcess | None = None

    def start(self) -> None:
        # A fresh pipe per child: a restarted child must not inherit a half-read one.
        wake_read, wake_write = self._context.Pipe(duplex=False)
        stop_read, stop_write = self._context.Pipe(duplex=False)
        self._child = self._context.Process(
            target=_child_main,
            args=(self.settings, wake_read, stop_read, self.sweep_seconds),
            name="ticketgw-processing",
            daemon=True,
        )
        self._child.start()
        wake_read.close()
        stop_read.close()
        os.set_blocking(wake_write.fileno(), False)
        with self._wake_lock:
            old = (self._wake_conn, self._stop_conn)
            self._wake_conn, self._stop_conn = wake_write, stop_write
            for conn in old:
                if conn is not None:
                    conn.close()

    def submit(self, item_id: int) -> None:
        """Wake the child: ``item_id`` is committed, and it reads what is pending."""
        with self._wake_lock, contextlib.suppress(OSError):
            # BlockingIOError, the pipe full: the child has wake-ups enough already.
            if self._wake_conn is not None:
                os.write(self._wake_conn.fileno(), b"\0")

    def ensure_alive(self) -> None:
        """Restart a dead child; the new one's sweep picks up every pending item."""
        if self._child is not None and not self._child.is_alive():
            log.error("processing process exited (code %s); restarting", self._child.exitcode)
            self.start()

    def stop(self, timeout: float = 30.0) -> None:
        if self._child is None:
            return
        assert self._stop_conn is not None
        with contextlib.suppress(OSError):
            self._stop_conn.send_bytes(b"stop")
        self._child.join(timeout)
        if self._child.is_alive():
            self._child.terminate()
            self._child.join(5)


def _child_main(
    settings: Settings, wake: Connection, stop: Connection, sweep_seconds: float
) -> None:
    # Ctrl-C reaches the whole process group; the parent decides when the child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return_large_blocks()  # one big mail's memory goes back once it is processed
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = open_runtime(settings)
    # `serve` in the embedded default: its worker threads also run the SLA scheduler.
    processing = Processing(runtime, sweep_seconds=sweep_seconds, scheduler=True)
    processing.start()
    parent = multiprocessing.parent_process()
    try:
        while True:
            ready = wait([wake, stop], timeout=1.0)
            if stop in ready:
                break
            if wake in ready:
                try:
                    # Every wake-up written so far in one read: they are all one sweep.
                    data = os.read(wake.fileno(), 65536)
                except BlockingIOError:
                    continue
                if not data:  # the parent's end is closed: it died
                    break
                processing.nudge()
            # A parent killed with SIGKILL never says stop: do not live on as an orphan
            # (the restarted listener starts a processing child of its own).
            elif parent is not None and not parent.is_alive():
                break
    finally:
        processing.stop()
        runtime.close()
