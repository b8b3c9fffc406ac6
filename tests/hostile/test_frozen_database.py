"""A frozen database (a stalled connection, as under SIGSTOP) gets 451, not silence."""

from __future__ import annotations

import smtplib

from sqlalchemy import select

from admin_cli.app import BackgroundGateway
from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime
from schema.models import InboxItem, Ticket
from tests.inbound.mails import new_request
from tests.inbound.test_resilience import proxied_env
from tests.tcp_proxy import TcpProxy
from tests.waiting import wait_until

__all__ = ["proxied_env"]
SUPPORT = "support@example.com"


def _refusal_code(client: smtplib.SMTP, raw: bytes) -> int:
    try:
        client.sendmail("bob@example.org", [SUPPORT], raw)
    except smtplib.SMTPRecipientsRefused as refused:
        return refused.recipients[SUPPORT][0]
    except smtplib.SMTPDataError as refused:
        return refused.smtp_code
    return 250


def test_a_frozen_database_gives_451_and_the_retry_is_stored_once(
    proxied_env: tuple[dict[str, str], TcpProxy],
) -> None:
    env, proxy = proxied_env
    runtime = open_runtime(load_settings({**env, "TICKETGW_DATABASE_TIMEOUT": "2"}), migrate=True)
    during = new_request(subject="during").as_bytes()
    with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
        with smtplib.SMTP(*gw.smtp_address, timeout=60) as client:
            assert client.sendmail("bob@example.org", [SUPPORT], new_request().as_bytes()) == {}
        assert gw.processor.wait_idle(20)
        proxy.stall()
        try:
            # Without a timeout this waits for as long as the database is frozen; the
            # client's own 60 s would end it with a socket timeout, not an SMTP reply.
            with smtplib.SMTP(*gw.smtp_address, timeout=60) as client:
                assert _refusal_code(client, during) == 451
        finally:
            proxy.restore()
        with smtplib.SMTP(*gw.smtp_address, timeout=60) as client:  # the client's retry
            assert client.sendmail("bob@example.org", [SUPPORT], during) == {}
        # The frozen store may have finished once thawed (then the retry was "already
        # have it"), and the sweep processes it: wait for that, not for a fixed time.
        wait_until(lambda: _statuses(runtime) == ["done", "done"], 60, "both mails processed")
    with runtime.sessions() as s:
        subjects = sorted(s.scalars(select(Ticket.subject)))
    runtime.close()
    assert subjects == ["Printer on fire", "during"]


def _statuses(runtime: Runtime) -> list[str]:
    with runtime.sessions() as s:
        return list(s.scalars(select(InboxItem.status).order_by(InboxItem.id)))
