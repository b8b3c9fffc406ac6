"""The SMTP listener: refuse unknown recipients at RCPT, answer 250 only once stored.

Hooks stay thin: RCPT asks :class:`RecipientCheck`, DATA calls ``inbox.accept`` in a thread
(the database driver blocks) and hands the stored item to the processor. Replies are named
constants, so tests and clients see the same words.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AnyStr, TypeVar

from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session, syntax
from sqlalchemy import select
from sqlalchemy.exc import DataError, SQLAlchemyError

from gateway.config import Settings
from gateway.errors import one_line
from gateway.inbound.inbox import accept, mail_dedupe_key
from gateway.runtime import Runtime
from gateway.tokens import split_plus
from schema.models import QueueAddress

log = logging.getLogger(__name__)
_T = TypeVar("_T")

OK = "250 OK"
UNKNOWN_RECIPIENT = "550 5.1.1 {address}: no such support address here"
NO_RECIPIENTS = "554 5.5.1 no valid recipients"
TRY_LATER = "451 4.3.0 cannot store the message right now, try again later"
RECIPIENT_TRY_LATER = "451 4.3.0 cannot check recipients right now, try again later"
SENDER_TOO_LONG = "553 5.1.7 sender address longer than {limit} characters"
BAD_DATA = "554 5.6.0 message cannot be stored as it is: {reason}"
QUEUED = "250 2.0.0 OK: queued as {item_id}"
DUPLICATE = "250 2.0.0 OK: already have it as {item_id}"

TOO_MANY_ERRORS = "421 4.7.0 too many errors, closing the connection"

_LINE_TOO_LONG = "500 Line too long (see RFC5321 4.5.3.1.6)"
_TOO_MUCH = "552 Error: Too much mail data"

# The longest address the inbox columns hold (RFC 5321 allows paths of 256 octets).
MAX_ADDRESS = 320
# How long a known-address list is trusted before it is read again.
_REFRESH_SECONDS = 10.0


class RecipientCheck:
    """Which addresses we accept mail for: every queue's support address, plus tag or not.

    The list is cached; an address missing from it is looked up again at once, so a queue
    added a moment ago receives mail without a restart.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._known: frozenset[str] = frozenset()
        self._loaded_at = 0.0

    def _load(self) -> frozenset[str]:
        with self._runtime.sessions() as session:
            rows = frozenset(session.scalars(select(QueueAddress.address)))
        self._known = rows | frozenset(self._runtime.settings.support_address)
        self._loaded_at = time.monotonic()
        return self._known

    def accepts(self, address: str) -> bool:
        """Raises ``SQLAlchemyError`` only when the database is needed and unreachable."""
        base, _tag = split_plus(address)
        if base in self._known and time.monotonic() - self._loaded_at < _REFRESH_SECONDS:
            return True
        try:
            return base in self._load()
        except SQLAlchemyError:
            if self.known_before(address):
                return True  # stale but known-good: keep accepting while the database is away
            raise

    def known_before(self, address: str) -> bool:
        """Whether ``address`` was known at the last read, however long ago."""
        return split_plus(address)[0] in self._known


class InboxSMTP(SMTP):
    """aiosmtpd's SMTP, with DATA collected into one growing buffer.

    aiosmtpd 1.4 keeps DATA as one ``bytearray`` per line (~140 bytes of objects for a
    78-byte line) and joins them at the end: a 20 MiB mail peaked at 4x its size in the
    listener. One buffer peaks at about its size, and it is handed to the hook as it is,
    without a copy into ``bytes``. The rest is aiosmtpd's ``smtp_DATA``, in its order: the
    checks before ``354``, dot-unstuffing, ``500`` for a line over ``line_length_limit`` and
    ``552`` over ``data_size_limit`` (both after reading on to the final dot, RFC 5321
    4.2.5), the DATA hook, then the envelope reset. Our factory sets ``decode_data=False``,
    so there is no decoded ``str`` copy to make, and the content is the original content.
    It uses aiosmtpd 1.4 internals (``_reader``, ``_call_handler_hook``,
    ``_set_post_data_state``); ``tests/inbound/test_big_mail.py`` checks the behaviour.

    Session limits, as Postfix's ``smtpd_hard_error_limit`` and
    ``smtpd_junk_command_limit``: every 4xx/5xx reply is an error, and so is every
    NOOP, RSET, VRFY or HELP past the junk limit; at the error limit the client gets
    ``421`` and the connection is closed. A flood of unknown recipients, or a session
    kept open with NOOPs, otherwise holds a connection and the listener's time for as
    long as the client likes. Both counts start again with each mail accepted, so a
    relay delivering many mails over one connection is never cut.
    """

    hard_error_limit = 20
    junk_command_limit = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._errors = 0
        self._junk = 0
        self._closing = False

    async def push(self, status: AnyStr) -> None:
        await super().push(status)
        if status[:1] in ("4", "5", b"4", b"5"):
            await self._count_error()

    async def _count_error(self) -> None:
        self._errors += 1
        if self._errors >= self.hard_error_limit and not self._closing:
            self._closing = True
            await super().push(TOO_MANY_ERRORS)
            if self.transport is not None:
                self.transport.close()

    async def _junk_command(self) -> None:
        self._junk += 1
        if self._junk > self.junk_command_limit:
            await self._count_error()

    @syntax("NOOP [ignored]")
    async def smtp_NOOP(self, arg: str) -> None:
        await self._junk_command()
        if not self._closing:
            await super().smtp_NOOP(arg)

    @syntax("RSET")
    async def smtp_RSET(self, arg: str) -> None:
        await self._junk_command()
        if not self._closing:
            await super().smtp_RSET(arg)

    @syntax("VRFY <address>")
    async def smtp_VRFY(self, arg: str) -> None:
        await self._junk_command()
        if not self._closing:
            await super().smtp_VRFY(arg)

    @syntax("HELP [command]")
    async def smtp_HELP(self, arg: str) -> None:
        await self._junk_command()
        if not self._closing:
            await super().smtp_HELP(arg)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = bytearray()
        size = 0
        limit = self.data_size_limit
        fragments: list[bytes] = []
        refusal: str | None = None
        while self.transport is not None:
            try:
                line = await self._reader.readuntil(b"\r\n")
            except asyncio.CancelledError:
                log.info("connection lost during DATA")
                self._writer.close()
                raise
            except asyncio.LimitOverrunError as exc:
                # Longer than the reader's limit: keep reading, answer after the final dot.
                refusal = refusal or _LINE_TOO_LONG
                data = bytearray()
                line = await self._reader.read(exc.consumed)
            if not fragments and line == b".\r\n":
                break
            size += len(line)
            if refusal is None and limit and size > limit:
                refusal = _TOO_MUCH
                data = bytearray()
            fragments.append(line)
            if not line.endswith(b"\r\n"):
                continue
            if refusal is None:
                whole = fragments[0] if len(fragments) == 1 else b"".join(fragments)
                if len(whole) > self.line_length_limit:
                    refusal = _LINE_TOO_LONG
                    data = bytearray()
                else:
                    # RFC 5321 4.5.2: a leading dot was doubled by the client
                    data += memoryview(whole)[1:] if whole.startswith(b".") else whole
            fragments.clear()
        if refusal is not None:
            await self.push(refusal)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        # The bytearray itself, not a copy (a mail may be 25 MiB): bytes to every reader.
        self.envelope.content = self.envelope.original_content = data  # type: ignore[assignment]
        del data  # the envelope holds the only reference: the reset below frees it
        status = await self._call_handler_hook("DATA")
        if status is MISSING or status.startswith("250"):
            self._errors = self._junk = 0  # a mail was accepted: a working client
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)


class InboxHandler:
    """aiosmtpd handler: the thin edge between SMTP and the durable inbox."""

    def __init__(
        self,
        runtime: Runtime,
        on_stored: Callable[[int], None],
        executor: ThreadPoolExecutor,
    ) -> None:
        self.runtime = runtime
        self.on_stored = on_stored
        self.executor = executor
        self.recipients = RecipientCheck(runtime)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # No retry can shorten an address: refused for good, before the mail is sent.
        if len(address) > MAX_ADDRESS:
            return SENDER_TOO_LONG.format(limit=MAX_ADDRESS)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return OK

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            known = await self._in_thread(self.recipients.accepts, address)
        except TimeoutError:
            known = self.recipients.known_before(address)
            if not known:
                log.error("recipient check timed out: the database does not answer")
                return RECIPIENT_TRY_LATER
        except SQLAlchemyError as exc:
            log.error("recipient check failed: %s", one_line(exc))
            return RECIPIENT_TRY_LATER
        if not known:
            return UNKNOWN_RECIPIENT.format(address=address)
        envelope.rcpt_tos.append(address)
        return OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not envelope.rcpt_tos:
            return NO_RECIPIENTS
        raw = envelope.original_content or b""
        try:
            item_id, duplicate = await self._in_thread(
                self._store, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except DataError as exc:
            # The database refused a value of this mail: the same mail fails the same way
            # on every attempt, so a temporary answer would only delay its bounce.
            log.error("mail from %s refused by the database: %s", envelope.mail_from, one_line(exc))
            return BAD_DATA.format(reason=one_line(exc, 200))
        except (SQLAlchemyError, TimeoutError) as exc:
            log.error("could not store mail from %s: %s", envelope.mail_from, one_line(exc))
            return TRY_LATER
        if duplicate:
            return DUPLICATE.format(item_id=item_id)
        self.on_stored(item_id)
        return QUEUED.format(item_id=item_id)

    async def _in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` in the store pool, given up after ``TICKETGW_DATABASE_TIMEOUT``.

        A frozen database (SIGSTOP, a stalled network) answers nothing, and no driver
        timeout covers a statement already sent. Given up, the thread may still finish
        later: a mail stored then is found again by the processor's sweep, and the
        client's retry by its dedupe key, so a 451 never loses nor doubles it.
        """
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self.executor, fn, *args)
        return await asyncio.wait_for(call, self.runtime.settings.database_timeout)

    def _store(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> tuple[int, bool]:
        with self.runtime.transaction() as session:
            accepted = accept(
                session,
                raw,
                channel="email",
                source="smtp",
                dedupe_key=mail_dedupe_key(raw),
                envelope_sender=mail_from.lower(),
                envelope_recipients=[r.lower() for r in rcpt_tos],
            )
        return accepted.item_id, accepted.duplicate


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.smtp_tls_cert is None or settings.smtp_tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    return context


def smtp_factory(handler: InboxHandler, settings: Settings) -> Callable[[], SMTP]:
    """A protocol factory for ``loop.create_server`` with our limits and TLS settings."""
    context = tls_context(settings)
    hostname = settings.message_id_domain
    options: dict[str, Any] = {
        "data_size_limit": settings.max_message_bytes,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "hostname": hostname,
        "ident": "ticket-gateway",
        "tls_context": context,
        "timeout": 300,
    }
    return lambda: InboxSMTP(handler, **options)
