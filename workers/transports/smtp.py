"""SMTP relay transport: smtplib to ``TICKETGW_SMTP_RELAY``, one reused connection a thread.

Reusing the connection saves the TCP handshake, EHLO, STARTTLS and AUTH on every message,
which is most of the cost of a small mail. A connection idle for a while is checked with
NOOP before reuse (relays drop idle clients). Every socket operation has a timeout:
Dramatiq's time limits cannot interrupt a thread blocked in ``recv``.

A connection is not kept for ever. After ``postfix reload`` the smtpd behind a connection
opened before it keeps the old configuration until the client leaves: one found in the
field refused a whole burst of acknowledgements that a fresh connection accepted. So a
connection is recycled after :class:`Reuse` limits (Postfix's own client: 300 s) and after
any refusal that is not about the recipient (``workers.transports.smtp_replies``). Such a
refusal, or a permanent refusal of the recipient (which marks the address bouncing), on a
connection that already carried mail is not believed: the mail is tried once more on a
fresh connection, whose answer decides.

Any exception inside a transaction closes the connection: left open in the middle of a
MAIL transaction, it would answer the next mail's MAIL with ``503 nested MAIL command``.

Outcomes: a refusal about the recipient fails (5xx, :class:`AddressRefused`) or defers
(4xx) that row and keeps the connection; a broken session (421, 500, 503), any other 4xx
and a dropped connection are temporary; any other 5xx is permanent. A relay that cannot be
reached or refuses us before any mail (greeting, STARTTLS, AUTH) is :class:`Unreachable`.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from workers.transports.base import (
    AddressRefused,
    DeliveryError,
    PermanentFailure,
    TemporaryFailure,
    Unreachable,
)
from workers.transports.smtp_envelope import Envelope
from workers.transports.smtp_replies import Reply

IDLE_CHECK_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Reuse:
    """How long one relay connection carries mail before the next mail opens a new one."""

    seconds: float = 300.0  # Postfix's smtp_connection_reuse_time_limit
    messages: int = 100


@dataclass(slots=True)
class _Link:
    conn: smtplib.SMTP
    opened: float
    used: float
    transactions: int = 0  # tried on this connection, accepted or not


class _Suspect(Exception):
    """A refusal a fresh connection might not repeat: on a reused one, try a fresh one.

    ``recycle``: whether the connection is closed even when the refusal is believed.
    """

    def __init__(self, failure: DeliveryError, *, recycle: bool = True) -> None:
        super().__init__(str(failure))
        self.failure, self.recycle = failure, recycle


def _failure(reply: Reply, what: str) -> TemporaryFailure | PermanentFailure:
    error = PermanentFailure if reply.permanent else TemporaryFailure
    return error(f"{what}: {reply}")


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
        reuse: Reuse = Reuse(),
    ) -> None:
        self.host, self.port, self.timeout, self.reuse = host, port, timeout, reuse
        self.user, self.password, self.starttls = user, password, starttls
        self._local = threading.local()

    @property
    def relay(self) -> str:
        return f"relay {self.host}:{self.port}"

    def send(self, message: EmailMessage) -> str:
        """Deliver ``message`` to its envelope (From, To); return the relay's queue reply."""
        envelope = Envelope.of(message)
        while True:
            link = self._link()
            reused = link.transactions > 0
            link.transactions += 1
            try:
                reply = self._transaction(link.conn, envelope, message)
            except _Suspect as suspect:
                if reused:
                    self.close()
                    continue  # the next link is fresh: its answer decides
                if suspect.recycle:
                    self.close()
                else:
                    self._reset()
                raise suspect.failure from suspect.__cause__
            except Unreachable:
                self.close()  # timed out or dropped: an RSET would only wait again
                raise
            except DeliveryError:
                self._reset()  # about this row alone: the connection carries the next one
                raise
            except BaseException:
                self.close()  # state unknown: never reuse it mid-transaction
                raise
            link.used = time.monotonic()
            return reply.text[:200]

    def _transaction(self, conn: smtplib.SMTP, envelope: Envelope, message: EmailMessage) -> Reply:
        if envelope.needs_utf8 and not conn.has_extn("smtputf8"):
            raise _Suspect(  # perhaps only this connection's: smtputf8_enable and a reload
                PermanentFailure(
                    f"{envelope.needs_utf8} needs SMTPUTF8, which {self.relay} does not offer"
                )
            )
        data = envelope.data(message)
        options = ["SMTPUTF8"] if envelope.needs_utf8 else []
        if not data.isascii() and conn.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        stage = "MAIL"
        try:
            reply = Reply.of(*conn.mail(envelope.sender, options))
            if reply.code != 250:
                raise _Suspect(_failure(reply, "sender refused"))
            stage = "RCPT"
            for rcpt in envelope.recipients:
                reply = Reply.of(*conn.rcpt(rcpt))
                if reply.code in (250, 251):
                    continue
                what = f"recipient {rcpt} refused"
                if not reply.about_recipient():
                    raise _Suspect(_failure(reply, what))
                if not reply.permanent:
                    raise TemporaryFailure(f"{what}: {reply}")
                # A bounce marks the address for good: believe only a fresh connection.
                raise _Suspect(AddressRefused(rcpt, f"{what}: {reply}"), recycle=False)
            stage = "DATA"
            reply = Reply.of(*conn.data(data))
        except smtplib.SMTPResponseException as exc:  # DATA itself refused
            raise _Suspect(_failure(Reply.of(exc.smtp_code, exc.smtp_error), "relay said")) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise self._dropped(exc, stage) from exc
        except smtplib.SMTPException:
            raise
        except OSError as exc:  # timeouts, resets
            raise self._dropped(exc, stage) from exc
        if reply.code != 250:
            raise _Suspect(_failure(reply, "message refused"))
        return reply

    def _dropped(self, exc: OSError, stage: str) -> Exception:
        failure = Unreachable(f"{self.relay}: {exc or type(exc).__name__}")
        # After the mail went out the relay may have it: no second try now, the backoff's.
        return failure if stage == "DATA" else _Suspect(failure)

    def _link(self) -> _Link:
        link: _Link | None = getattr(self._local, "link", None)
        now = time.monotonic()
        if link is not None and (
            now - link.opened >= self.reuse.seconds or link.transactions >= self.reuse.messages
        ):
            self.close()
            link = None
        if link is not None and now - link.used > IDLE_CHECK_SECONDS:
            try:
                alive = link.conn.noop()[0] == 250
            except OSError:  # smtplib's own errors are OSErrors too
                alive = False
            if not alive:
                self.close()
                link = None
        if link is None:
            link = _Link(self._open(), now, now)
            self._local.link = link
        return link

    def _open(self) -> smtplib.SMTP:
        try:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPResponseException as exc:  # the greeting refused us
            raise Unreachable(f"{self.relay}: {Reply.of(exc.smtp_code, exc.smtp_error)}") from exc
        except OSError as exc:
            raise Unreachable(f"{self.relay}: {exc or type(exc).__name__}") from exc
        try:
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password or "")
        except smtplib.SMTPResponseException as exc:
            conn.close()
            reply = Reply.of(exc.smtp_code, exc.smtp_error)
            raise Unreachable(f"{self.relay} refused us: {reply}") from exc
        except OSError as exc:
            conn.close()
            raise Unreachable(f"{self.relay}: {exc or type(exc).__name__}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _reset(self) -> None:
        """After a refused transaction: RSET so the connection can carry the next one."""
        link: _Link | None = getattr(self._local, "link", None)
        try:
            if link is not None:
                link.conn.rset()
                link.used = time.monotonic()
        except OSError:
            self.close()

    def close(self) -> None:
        link: _Link | None = getattr(self._local, "link", None)
        self._local.link = None
        if link is not None:
            try:
                link.conn.quit()
            except OSError:
                link.conn.close()
