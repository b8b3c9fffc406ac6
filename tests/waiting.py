"""Joining, not sleeping: wait for a condition, find a free loopback port, start a server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

_REPO = Path(__file__).resolve().parents[1]


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``condition`` every 50 ms until it is truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.05)


def free_port() -> int:
    """A free loopback port (for servers, such as aiosmtpd's Controller, that cannot bind 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(
    env: dict[str, str], *args: str, stderr: IO[bytes] | int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """``ticketgw serve ARGS`` as its own process, returned once its SMTP port accepts."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "admin_cli.main", "serve", *args],
        env={**os.environ, **env},
        cwd=_REPO,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    port = int(env["TICKETGW_SMTP_LISTEN"].rpartition(":")[2])

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, timeout=30, what="ticketgw serve listening")
    return proc
