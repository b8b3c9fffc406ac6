"""One mailbox's poller: connect, catch up, then wait for mail with IDLE (or poll).

Runs in a thread of its own, and reads only while it holds the mailbox's lease
(``gateway.imap.lease``): another gateway's poller for the same mailbox waits meanwhile,
and takes over when this one stops or dies. Every failure (the server away, a wrong password, a
certificate not trusted, the database away) is written to the mailbox's state, logged as
one line, and retried after an exponential backoff with jitter, so one broken mailbox
never holds up another or the listeners beside it.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from gateway.backoff import Backoff
from gateway.imap.after import FolderCache
from gateway.imap.connection import ImapFailure, close, connect, describe
from gateway.imap.credentials import CredentialError
from gateway.imap.folder_sync import MailboxRemoved, PassResult, sync_folder
from gateway.imap.lease import LEASE_SECONDS, Lease, LeaseLost
from gateway.imap.mailboxes import MailboxConfig
from gateway.runtime import Runtime
from schema.models import Mailbox
from schema.models.base import utcnow

log = logging.getLogger(__name__)

# RFC 2177: a client should re-issue IDLE at least every 29 minutes, or a server may
# drop it as inactive.
IDLE_RENEW_SECONDS = 25 * 60
# How often a waiting poller looks up from IDLE to see whether it should stop.
WAKE_SECONDS = 1.0
RECONNECT = Backoff(base=2.0, cap=300.0, jitter=0.3)
_NEW_MAIL = frozenset({b"EXISTS", b"RECENT"})
_LOST = (OSError, IMAPClientError, imaplib.IMAP4.error)


class MailboxPoller:
    def __init__(
        self,
        config: MailboxConfig,
        runtime: Runtime,
        on_stored: Callable[[int], None],
        *,
        backoff: Backoff = RECONNECT,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.on_stored = on_stored
        self.backoff = backoff
        self.lease = Lease(runtime, config.id, seconds=lease_seconds)
        # Whose lease this poller waits for (another gateway's), or None while it reads.
        self.waiting_for: str | None = None
        self._stop = threading.Event()
        self._failures = 0  # in a row; the backoff grows with them
        self._thread = threading.Thread(target=self.run, name=f"imap-{config.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def run(self) -> None:
        held = False
        while not self._stop.is_set():
            try:
                if not self._hold():
                    continue
                held = True
                self._session()
            except LeaseLost as exc:
                log.warning(
                    "mailbox %s: now read by %s; waiting for its lease", self.config.name, exc
                )
                continue
            except MailboxRemoved:
                return
            except (ImapFailure, CredentialError) as exc:
                self._failures += 1
                self._failed(str(exc))
            except _LOST as exc:
                self._failures += 1
                self._failed(f"connection to {self._where} lost: {describe(exc)}")
            except SQLAlchemyError as exc:
                self._failures += 1
                self._failed(f"database error: {describe(exc)}")
            except Exception as exc:  # a bug must not end the thread: log it and go on
                self._failures += 1
                log.exception("mailbox %s: unexpected error", self.config.name)
                self._failed(f"unexpected error: {describe(exc)}")
            if self._failures:
                self._stop.wait(self.backoff.delay(self._failures))
        if held:  # a poller that never read leaves the state to the gateway that does
            with contextlib.suppress(SQLAlchemyError):
                self._record(state="stopped")
                self.lease.release()

    def _hold(self) -> bool:
        """Take the lease, or wait a third of it before trying again; whether we hold it."""
        if self.lease.take():
            if self.waiting_for is not None:
                log.info(
                    "mailbox %s: took over the lease from %s", self.config.name, self.waiting_for
                )
            self.waiting_for = None
            return True
        holder = self.lease.current_holder() or "another gateway"
        if self.waiting_for != holder:
            log.info("mailbox %s: read by %s; waiting for its lease", self.config.name, holder)
        self.waiting_for = holder
        self._stop.wait(self.lease.seconds / 3)
        return False

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def _session(self) -> None:
        """One connection: catch up, then wait and catch up again until stopped."""
        if not self._failures:  # while retrying, the state keeps showing the error
            self._record(state="connecting")
        client = connect(self.config, self.runtime.settings.secret_key)
        try:
            folders = FolderCache()
            result = self._pass(client, folders)
            log.info(
                "mailbox %s: connected to %s, folder %s (UIDVALIDITY %s, %d mails)",
                self.config.name,
                self._where,
                self.config.folder,
                result.uidvalidity,
                result.messages,
            )
            idle = client.has_capability("IDLE")
            while not self._stop.is_set():
                if idle:
                    self._idle(client)
                else:
                    self._wait(self.config.poll_seconds)
                if not self._stop.is_set():
                    self._pass(client, folders)
        finally:
            close(client)

    def _pass(self, client: IMAPClient, folders: FolderCache) -> PassResult:
        result = sync_folder(
            client,
            self.config,
            self.runtime,
            self.on_stored,
            folders,
            should_stop=self._stop.is_set,
            lease=self.lease,
        )
        if result.stored or result.failed:
            log.info(
                "mailbox %s: stored %d new mails (%d failed, %d already stored)",
                self.config.name,
                result.stored + result.failed,
                result.failed,
                result.duplicates,
            )
        self._failures = 0
        self._record(
            state="connected",
            messages=result.messages,
            checked_at=utcnow(),
            last_error=None,
        )
        return result

    def _idle(self, client: IMAPClient) -> None:
        """Wait in IDLE for new mail, the poll interval, or a stop; whichever comes first."""
        started = time.monotonic()
        limit = min(IDLE_RENEW_SECONDS, self.config.poll_seconds)
        client.idle()
        try:
            while not self._stop.is_set() and time.monotonic() - started < limit:
                self.lease.keep()
                responses = client.idle_check(timeout=WAKE_SECONDS)
                if any(len(r) > 1 and r[1] in _NEW_MAIL for r in responses):
                    return
        finally:
            client.idle_done()

    def _wait(self, seconds: float) -> None:
        """Wait ``seconds`` or until stopped, renewing the lease meanwhile."""
        until = time.monotonic() + seconds
        while not self._stop.is_set() and (left := until - time.monotonic()) > 0:
            self.lease.keep()
            self._stop.wait(min(left, self.lease.seconds / 3))

    def _failed(self, message: str) -> None:
        log.error("mailbox %s: %s", self.config.name, message)
        # The database may be away too: then the log has it.
        with contextlib.suppress(SQLAlchemyError):
            self._record(state="error", last_error=message, last_error_at=utcnow())

    def _record(self, **values: object) -> None:
        with self.runtime.sessions() as session, session.begin():
            session.execute(update(Mailbox).where(Mailbox.id == self.config.id).values(**values))
