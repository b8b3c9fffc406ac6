"""SMTP relay transport: smtplib to ``TICKETGW_SMTP_RELAY``, one reused connection a thread.

Reusing the connection saves the TCP handshake, EHLO, STARTTLS and AUTH on every message,
which is most of the cost of a small mail. A connection idle for a while is checked with
NOOP before reuse (relays drop idle clients), and any failure closes it so the next message
starts fresh. Every socket operation has a timeout: Dramatiq's time limits cannot interrupt
a thread blocked in ``recv``.

Reply classes: 4xx, disconnects, refused connections and timeouts are temporary (the last
three :class:`Unreachable`); 5xx is permanent.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from workers.transports.base import PermanentFailure, TemporaryFailure, Unreachable

IDLE_CHECK_SECONDS = 10.0


def _failure(code: int, reply: bytes | str, what: str) -> TemporaryFailure | PermanentFailure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    error = TemporaryFailure if 400 <= code < 500 else PermanentFailure
    return error(f"{what}: {code} {' '.join(text.split())}")


class SmtpTransport:
    """Sends :class:`EmailMessage` objects through one relay; thread-safe, one link a thread."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.user, self.password, self.starttls = user, password, starttls
        self._local = threading.local()

    def send(self, message: EmailMessage) -> str:
        """Deliver ``message`` to its envelope (From, To); return the relay's queue reply."""
        sender = message["From"].addresses[0].addr_spec
        recipients = [a.addr_spec for a in message["To"].addresses]
        data = message.as_bytes(policy=SMTP_POLICY)
        try:
            conn = self._connection()
            code, reply = conn.mail(sender)
            if code != 250:
                raise _failure(code, reply, "sender refused")
            for rcpt in recipients:
                code, reply = conn.rcpt(rcpt)
                if code not in (250, 251):
                    raise _failure(code, reply, f"recipient {rcpt} refused")
            code, reply = conn.data(data)
            if code != 250:
                raise _failure(code, reply, "message refused")
        except (TemporaryFailure, PermanentFailure):
            self._reset()
            raise
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _failure(exc.smtp_code, exc.smtp_error, "relay said") from exc
        except (OSError, smtplib.SMTPException) as exc:  # timeouts and refusals are OSErrors
            self.close()
            reason = f"relay {self.host}:{self.port}: {exc or type(exc).__name__}"
            raise Unreachable(reason) from exc
        self._local.used = time.monotonic()
        return reply.decode("utf-8", "replace").strip()[:200]

    def _connection(self) -> smtplib.SMTP:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if conn is not None and time.monotonic() - self._local.used > IDLE_CHECK_SECONDS:
            try:
                if conn.noop()[0] != 250:
                    raise smtplib.SMTPServerDisconnected("NOOP refused")
            except (OSError, smtplib.SMTPException):
                self.close()
                conn = None
        if conn is None:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password or "")
            self._local.conn = conn
        return conn

    def _reset(self) -> None:
        """After a refused transaction: RSET so the connection can carry the next one."""
        conn = getattr(self._local, "conn", None)
        try:
            if conn is not None:
                conn.rset()
                self._local.used = time.monotonic()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()
