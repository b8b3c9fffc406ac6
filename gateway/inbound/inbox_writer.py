"""Group commit for a listener: the items that arrive together are committed together.

A webhook is answered only after its inbox row is committed. One transaction per request
costs a commit (and its WAL flush) each; here requests hand their item to one writer
thread, which commits everything waiting at that moment in one transaction
(``inbox.accept_all``) and then answers each request with its own :class:`Accepted`. An
item is still committed before its sender hears "accepted"; under load the commits are
shared. When the transaction fails (the database is away), every request of the batch
gets the error.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass

from gateway.inbound.inbox import Accepted, Incoming, accept_all
from gateway.runtime import Runtime

log = logging.getLogger(__name__)

# Items per commit at most: a burst of webhook requests bigger than this is a few commits.
# (Not the processor's ITEMS_PER_BATCH: this is about accepting, that about processing.)
ITEMS_PER_COMMIT = 200


@dataclass(frozen=True, slots=True)
class _Waiting:
    item: Incoming
    future: asyncio.Future[Accepted]
    loop: asyncio.AbstractEventLoop


class InboxWriter:
    """One thread committing what the event loop's handlers hand it, in batches."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(30)

    async def accept(self, item: Incoming) -> Accepted:
        """Commit ``item`` (with whatever else waits); raises what the commit raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Accepted] = loop.create_future()
        self._queue.put(_Waiting(item, future, loop))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < ITEMS_PER_COMMIT:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._commit(batch)
            if stopping:
                return

    def _commit(self, batch: list[_Waiting]) -> None:
        try:
            with self.runtime.transaction() as session:
                accepted = accept_all(session, [w.item for w in batch])
        except Exception as exc:  # the database is away: every request of the batch hears it
            for waiting in batch:
                waiting.loop.call_soon_threadsafe(_fail, waiting.future, exc)
            return
        for waiting, result in zip(batch, accepted, strict=True):
            waiting.loop.call_soon_threadsafe(_resolve, waiting.future, result)


def _resolve(future: asyncio.Future[Accepted], result: Accepted) -> None:
    if not future.done():  # the client may have gone away and the handler been cancelled
        future.set_result(result)


def _fail(future: asyncio.Future[Accepted], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
