"""A loopback TCP proxy that a test can cut, stall and restore: a server outage on demand.

``cut`` is a crashed server (connections refused and broken); ``stall`` is a frozen one
(SIGSTOP): connections are accepted and kept, and nothing comes back until ``restore``.
``drop_after(n)`` arms a one-shot cut once the server has sent ``n`` more bytes through
the proxy: a connection dropped in the middle of a response, deterministically.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = True
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._drop_at: int | None = None
        self.bytes_down = 0  # bytes the server sent to clients, over all connections
        self.drops = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)  # the timeout was for connecting: a stall must last
            with self._lock:
                self._conns += [client, upstream]
            for a, b, down in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(a, b, down), daemon=True).start()

    def drop_after(self, more_bytes: int) -> None:
        """Break every connection once the server has sent ``more_bytes`` more bytes."""
        with self._lock:
            self._drop_at = self.bytes_down + more_bytes

    def _pipe(self, src: socket.socket, dst: socket.socket, down: bool) -> None:
        try:
            while chunk := src.recv(65536):
                self._flowing.wait()  # stalled: held, not lost, until restore
                if down and self._count(len(chunk)):
                    self._break()
                    return
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _count(self, size: int) -> bool:
        with self._lock:
            self.bytes_down += size
            if self._drop_at is not None and self.bytes_down >= self._drop_at:
                self._drop_at = None
                self.drops += 1
                return True
            return False

    def cut(self) -> None:
        """Refuse new connections and break every open one, as a crashed server would."""
        self.up = False
        self._break()

    def _break(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def stall(self) -> None:
        """Keep every connection open and accept new ones, but pass no byte either way."""
        self._flowing.clear()

    def restore(self) -> None:
        self.up = True
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        self.cut()
        self._listener.close()


@contextmanager
def proxied_database(env: dict[str, str]) -> Iterator[tuple[dict[str, str], TcpProxy]]:
    """``env`` with its PostgreSQL reached through a :class:`TcpProxy`, for outage tests.

    Only the PostgreSQL pass can put a proxy in front of its database: SQLite skips.
    """
    from tests.conftest import BACKEND

    if BACKEND != "postgresql":
        pytest.skip("the outage is a TCP proxy in front of PostgreSQL: runs in the PostgreSQL pass")
    url = make_url(env["TICKETGW_DATABASE_URL"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        yield {**env, "TICKETGW_DATABASE_URL": proxied}, proxy
    finally:
        proxy.close()
