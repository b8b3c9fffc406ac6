"""``ticketgw serve``: the listeners and the inbox processor in one process.

The SMTP server runs on an asyncio loop; database work happens in a small thread pool
(the listener's hooks) and in the processor thread. :class:`Gateway` can run in the
foreground (``serve``) or in a background thread (``demo`` and the tests).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gateway.inbound.process import Outcome
from gateway.inbound.processor import InboxProcessor
from gateway.inbound.smtp import InboxHandler, smtp_factory
from gateway.runtime import Runtime
from workers.broker import RunningWorkers, setup_broker, start_workers
from workers.middleware import DeliveryOptions
from workers.relay import relay_pending

log = logging.getLogger(__name__)


class Gateway:
    """Listeners, the inbox processor and, in the embedded default, the delivery workers.

    With ``TICKETGW_REDIS_URL`` set, notifications are only enqueued here and separate
    ``ticketgw worker`` processes deliver them; without it a ``StubBroker`` and worker
    threads in this process do.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        sweep_seconds: float = 30.0,
        delivery: DeliveryOptions | None = None,
    ) -> None:
        self.runtime = runtime
        self.broker = setup_broker(runtime.settings, runtime=runtime, options=delivery)
        self.processor = InboxProcessor(
            runtime, sweep_seconds=sweep_seconds, on_outcome=self._relay
        )
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="smtp-store")
        self.workers: RunningWorkers | None = None
        self._servers: list[asyncio.Server] = []
        self.smtp_address: tuple[str, int] | None = None

    def _relay(self, outcome: Outcome) -> None:
        """Hand the notifications an item caused to the broker at once, not at the sweep."""
        if outcome.status in {"done", "ignored"}:
            relay_pending(self.runtime.sessions, self.broker)

    async def start(self) -> None:
        settings = self.runtime.settings
        handler = InboxHandler(self.runtime, self.processor.submit, self.executor)
        host, port = settings.smtp_listen
        loop = asyncio.get_running_loop()
        server = await loop.create_server(smtp_factory(handler, settings), host, port)
        self._servers.append(server)
        self.smtp_address = server.sockets[0].getsockname()[:2]
        if not settings.redis_url:
            self.workers = start_workers(self.broker)
        self.processor.start()
        log.info("SMTP listening on %s:%s", *self.smtp_address)

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()
        self.processor.stop()
        self.executor.shutdown(wait=True)
        if self.workers is not None:
            self.workers.stop()


def serve(runtime: Runtime, on_started: Callable[[Gateway], None] | None = None) -> None:
    """Run until SIGINT or SIGTERM; pending inbox items are picked up on the next start."""

    async def main() -> None:
        gateway = Gateway(runtime)
        await gateway.start()
        if on_started is not None:
            on_started(gateway)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        await gateway.stop()

    asyncio.run(main())


class BackgroundGateway:
    """A :class:`Gateway` on its own loop in a thread; ``with`` starts and stops it."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        sweep_seconds: float = 30.0,
        delivery: DeliveryOptions | None = None,
    ) -> None:
        self.gateway = Gateway(runtime, sweep_seconds=sweep_seconds, delivery=delivery)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gateway", daemon=True)

    def __enter__(self) -> Gateway:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.gateway.start(), self._loop).result(timeout=10)
        return self.gateway

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.gateway.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
