"""The composition root: what ``ticketgw serve`` runs, wired in one place.

:class:`Gateway` owns the listeners (``gateway.inbound.listener``), the processing of what
they accept (``admin_cli.processing``: the inbox processor, and in the embedded default
the Dramatiq workers) and their order of starting and stopping. It lives outside
``gateway/`` because it wires the domain to ``workers/``, which the domain never imports.
It runs in the foreground (``serve``, processing in a child process) or in a background
thread (``demo`` and the tests, processing in threads).

A new listener is one more entry of :func:`listeners`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from typing import Literal

from admin_cli.processing import Processing, ProcessingProcess
from gateway.imap.listener import ImapListener
from gateway.inbound.http import HttpListener
from gateway.inbound.listener import Listener
from gateway.inbound.smtp_listener import SmtpListener
from gateway.memory import return_large_blocks
from gateway.pipeline.processor import InboxProcessor
from gateway.runtime import Runtime
from workers.middleware import DeliveryOptions

log = logging.getLogger(__name__)


def listeners(runtime: Runtime, *, smtp_and_http: bool = True, imap: bool = True) -> list[Listener]:
    """Every listener ``serve`` runs, in starting order: SMTP, Twilio's webhooks, IMAP."""
    chosen: list[Listener] = [SmtpListener(runtime), HttpListener(runtime)] if smtp_and_http else []
    if imap:
        chosen.append(ImapListener(runtime))
    return chosen


class Gateway:
    """The listeners and what processes and delivers the items they accept.

    ``processing="thread"`` keeps processing in this process (tests, ``demo``);
    ``"process"`` moves it to a child process (``serve``), so that accepting mail never
    waits behind processing it. With ``TICKETGW_REDIS_URL`` set, notifications are only
    enqueued and separate ``ticketgw worker`` processes deliver them; without it, worker
    threads beside the processor do.

    ``smtp_and_http=False`` leaves the sockets closed (``ticketgw imap``: the mailboxes
    only); ``imap=False`` reads no mailbox.
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
        self.processing: Processing | ProcessingProcess = (
            Processing(runtime, sweep_seconds=sweep_seconds, delivery=delivery)
            if processing == "thread"
            else ProcessingProcess(runtime.settings, sweep_seconds=sweep_seconds)
        )
        self.listeners = listeners(runtime, smtp_and_http=smtp_and_http, imap=imap)

    @property
    def processor(self) -> InboxProcessor:
        """The in-process processor (thread mode), e.g. to wait until it is idle."""
        assert isinstance(self.processing, Processing), "processing runs in another process"
        return self.processing.processor

    @property
    def smtp_address(self) -> tuple[str, int] | None:
        """Where the SMTP listener accepts mail (the port chosen for ``:0``)."""
        smtp = next((x for x in self.listeners if isinstance(x, SmtpListener)), None)
        return smtp.address if smtp is not None else None

    @property
    def http_address(self) -> tuple[str, int] | None:
        """Where the HTTP listener takes Twilio's webhooks (the port chosen for ``:0``)."""
        http = next((x for x in self.listeners if isinstance(x, HttpListener)), None)
        return http.address if http is not None else None

    @property
    def imap_mailboxes(self) -> list[str] | None:
        """The mailboxes being read over IMAP; ``None`` when IMAP is off."""
        imap = next((x for x in self.listeners if isinstance(x, ImapListener)), None)
        return imap.mailboxes if imap is not None else None

    async def start(self) -> None:
        """Every listener, then processing; a listener that cannot start stops the others.

        What a listener hands over before processing runs is not lost: the processor's
        first sweep reads every pending item.
        """
        started: list[Listener] = []
        try:
            for listener in self.listeners:
                await listener.start(self.processing.submit)
                started.append(listener)
        except BaseException:
            for listener in reversed(started):
                await listener.stop()
            raise
        self.processing.start()

    async def stop(self) -> None:
        # Listeners first: whatever they accepted is committed before processing stops,
        # and is pending for the next start if processing does not get to it.
        for listener in reversed(self.listeners):
            await listener.stop()
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
