"""The SMTP listener as a :class:`~gateway.inbound.listener.Listener`: aiosmtpd on a port."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from gateway.errors import CannotListen
from gateway.inbound.listener import Handover
from gateway.inbound.smtp import InboxHandler, smtp_factory
from gateway.runtime import Runtime

log = logging.getLogger(__name__)


class SmtpListener:
    """Accepts mail on ``TICKETGW_SMTP_LISTEN``; storing runs in a small thread pool.

    The database driver blocks, so each DATA is committed in one of 8 threads while the
    event loop goes on talking to the other clients.
    """

    name = "smtp"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.address: tuple[str, int] | None = None
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="smtp-store")
        self._server: asyncio.Server | None = None

    async def start(self, handover: Handover) -> None:
        settings = self.runtime.settings
        handler = InboxHandler(self.runtime, handover, self._executor)
        host, port = settings.smtp_listen
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(smtp_factory(handler, settings), host, port)
        except OSError as exc:
            self._executor.shutdown(wait=False)
            raise CannotListen(
                f"cannot listen for SMTP on {host}:{port} (TICKETGW_SMTP_LISTEN): {exc.strerror}"
            ) from exc
        self.address = self._server.sockets[0].getsockname()[:2]
        log.info("SMTP listening on %s:%s", *self.address)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._executor.shutdown(wait=True)
