"""``ticketgw serve``: the SMTP, HTTP and IMAP listeners, and the processing of what they accept.

The SMTP server runs on an asyncio loop; storing a mail happens in a small thread pool
(the listener's hooks). :class:`Gateway` runs in the foreground (``serve``, processing in a
child process) or in a background thread (``demo`` and the tests, processing in threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from admin_cli.processing import Processing, ProcessingProcess
from gateway.errors import CannotListen
from gateway.imap.listener import ImapListener
from gateway.inbound.http import HttpListener
from gateway.inbound.smtp import InboxHandler, smtp_factory
from gateway.memory import return_large_blocks
from gateway.pipeline.processor import InboxProcessor
from gateway.runtime import Runtime
from workers.middleware import DeliveryOptions

log = logging.getLogger(__name__)


class Gateway:
    """The SMTP, HTTP (Twilio) and IMAP listeners, and what processes and delivers what they accept.

    ``smtp_and_http=False`` leaves the sockets closed (``ticketgw imap``: the mailboxes only).

    ``processing="thread"`` keeps processing in this process (tests, ``demo``);
    ``"process"`` moves it to a child process (``serve``), so that accepting mail never
    waits behind processing it. With ``TICKETGW_REDIS_URL`` set, notifications are only
    enqueued and separate ``ticketgw worker`` processes deliver them; without it, worker
    threads beside the processor do.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        sweep_seconds: float = 30.0,
        delivery: DeliveryOptions | None = None,
        processing: Literal["thread", "process"] = "thread",
        smtp_and_http: bool = True,
        imap: bool = True,
    ) -> None:
        self.runtime = runtime
        self.smtp_and_http = smtp_and_http
        self.processing: Processing | ProcessingProcess = (
            Processing(runtime, sweep_seconds=sweep_seconds, delivery=delivery)
            if processing == "thread"
            else ProcessingProcess(runtime.settings, sweep_seconds=sweep_seconds)
        )
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="smtp-store")
        self._servers: list[asyncio.Server] = []
        self.smtp_address: tuple[str, int] | None = None
        self.http = HttpListener(runtime, self.processing.submit, self.executor)
        # Mailboxes read over IMAP, each by a poller thread; it stores into the same inbox.
        self.imap = ImapListener(runtime, self.processing.submit) if imap else None

    @property
    def processor(self) -> InboxProcessor:
        """The in-process processor (thread mode), e.g. to wait until it is idle."""
        assert isinstance(self.processing, Processing), "processing runs in another process"
        return self.processing.processor

    async def start(self) -> None:
        if self.smtp_and_http:
            await self._listen()
        self.processing.start()
        if self.smtp_address is not None:
            log.info("SMTP listening on %s:%s", *self.smtp_address)
        if self.imap is not None:
            self.imap.start()

    async def _listen(self) -> None:
        settings = self.runtime.settings
        handler = InboxHandler(self.runtime, self.processing.submit, self.executor)
        host, port = settings.smtp_listen
        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_server(smtp_factory(handler, settings), host, port)
        except OSError as exc:
            raise CannotListen(
                f"cannot listen for SMTP on {host}:{port} (TICKETGW_SMTP_LISTEN): {exc.strerror}"
            ) from exc
        self._servers.append(server)
        self.smtp_address = server.sockets[0].getsockname()[:2]
        try:
            await self.http.start()
        except CannotListen:
            server.close()
            await server.wait_closed()
            self.executor.shutdown(wait=False)
            raise

    @property
    def http_address(self) -> tuple[str, int] | None:
        return self.http.address

    async def stop(self) -> None:
        if self.imap is not None:
            self.imap.stop()
        if self.smtp_and_http:
            await self.http.stop()
        for server in self._servers:
            server.close()
            await server.wait_closed()
        self.executor.shutdown(wait=True)
        self.processing.stop()


def serve(
    runtime: Runtime,
    on_started: Callable[[Gateway], None] | None = None,
    *,
    smtp_and_http: bool = True,
) -> None:
    """Run until SIGINT or SIGTERM; pending inbox items are picked up on the next start."""
    return_large_blocks()  # the listener holds each big mail whole until it is stored

    async def main() -> None:
        gateway = Gateway(runtime, processing="process", smtp_and_http=smtp_and_http)
        await gateway.start()
        if on_started is not None:
            on_started(gateway)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=2.0)
            if isinstance(gateway.processing, ProcessingProcess):
                gateway.processing.ensure_alive()
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
