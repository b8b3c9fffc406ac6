"""The HTTP listener of ``ticketgw serve``: Twilio's webhooks, rating links and ``/healthz``.

aiohttp, on the same event loop as the SMTP listener. Bodies are capped at ``MAX_BODY``
(``413``; a webhook is a few kilobytes), other methods get ``405``, and an unexpected
error is a plain ``500`` with nothing of the traceback in it (that goes to the log).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import redis
from aiohttp import web
from sqlalchemy import text

from gateway.errors import CannotListen
from gateway.inbound.csat_links import CsatLinks
from gateway.inbound.inbox_writer import InboxWriter
from gateway.inbound.listener import Handover
from gateway.inbound.twilio_webhook import TwilioWebhooks
from gateway.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
_HEALTH_TIMEOUT = 5.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def plain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.Response(status=500, text="500 internal error\n")


def health(runtime: Runtime) -> dict[str, str]:
    """``ok`` or what is wrong, for the database and the broker (blocking)."""
    checks = {"database": "ok", "broker": "ok"}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("health check: database unreachable: %s", exc)
        checks["database"] = "unreachable"
    url = runtime.settings.redis_url
    if not url:
        checks["broker"] = "ok (in-process)"
        return checks
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=_HEALTH_TIMEOUT, socket_connect_timeout=_HEALTH_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        log.warning("health check: Redis unreachable: %s", exc)
        checks["broker"] = "unreachable"
    return checks


class HttpListener:
    """Listens at ``TICKETGW_HTTP_LISTEN``; hands each stored inbox id over.

    A :class:`~gateway.inbound.listener.Listener`; the blocking work (storing, health
    checks) runs in its own small thread pool.
    """

    name = "http"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="http-store")
        self.writer = InboxWriter(runtime)
        self.address: tuple[str, int] | None = None
        self._runner: web.AppRunner | None = None

    def app(self, webhooks: TwilioWebhooks) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[plain_errors])
        ratings = CsatLinks(self.runtime, self.executor)
        app.add_routes([*webhooks.routes(), *ratings.routes(), web.get("/healthz", self.healthz)])
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        checks = await loop.run_in_executor(self.executor, health, self.runtime)
        ok = all(v.startswith("ok") for v in checks.values())
        body = {"status": "ok" if ok else "unavailable", **checks}
        return web.json_response(body, status=200 if ok else 503, dumps=json.dumps)

    async def start(self, handover: Handover) -> None:
        host, port = self.runtime.settings.http_listen
        try:
            sock = socket.create_server((host, port))
        except OSError as exc:
            self.executor.shutdown(wait=False)
            raise CannotListen(
                f"cannot listen for HTTP on {host}:{port} (TICKETGW_HTTP_LISTEN): {exc.strerror}"
            ) from exc
        self.writer.start()
        webhooks = TwilioWebhooks(self.runtime, self.executor, self.writer, handover)
        self._runner = web.AppRunner(self.app(webhooks), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self.address = sock.getsockname()[:2]
        log.info("HTTP listening on %s:%s", *self.address)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self.writer.stop()
        self.executor.shutdown(wait=True)
