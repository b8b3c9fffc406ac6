"""What ``ticketgw serve`` writes to its log while mail comes in."""

from __future__ import annotations

import signal
import smtplib
from pathlib import Path

import pytest

from tests.inbound.mails import new_request
from tests.waiting import free_port, start_serve


def _serve_one_mail(env: dict[str, str], log: Path, *args: str) -> str:
    """Start serve, send it one mail, stop it; return what it logged."""
    port = free_port()
    serve_env = {**env, "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{port}"}
    with log.open("wb") as stderr:
        server = start_serve(serve_env, *args, stderr=stderr)
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.send_message(new_request())
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    return log.read_text()


@pytest.mark.parametrize(("args", "session_lines"), [((), False), (("--verbose",), True)])
def test_smtp_sessions_are_logged_only_when_verbose(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], session_lines: bool
) -> None:
    logged = _serve_one_mail(env, tmp_path / "serve.log", *args)
    assert "SMTP listening on" in logged, "the gateway's own INFO lines stay"
    per_command = [line for line in logged.splitlines() if " mail.log: " in line]
    assert bool(per_command) == session_lines, logged
