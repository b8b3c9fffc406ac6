"""A tiny media server standing in for Twilio's MMS media URLs (basic auth, like Twilio's)."""

from __future__ import annotations

import asyncio
import base64
import threading

from aiohttp import web

from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN

JPEG = b"\xff\xd8\xff\xe0" + b"fake jpeg bytes " * 500


class MediaServer:
    """Serves ``/Media/<name>``: ``photo`` (a JPEG), anything else 404; records auth."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def _media(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization")
        self.requests.append((request.match_info["name"], auth))
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if auth != expected:
            return web.Response(status=401)
        if request.match_info["name"] != "photo":
            return web.Response(status=404)
        return web.Response(body=JPEG, content_type="image/jpeg")

    async def _start(self) -> None:
        app = web.Application()
        app.add_routes([web.get("/Media/{name}", self._media)])
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"

    def __enter__(self) -> MediaServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
